"""``blur``: a Gaussian blur (``gblur``) whose edge spreads ``radius`` pixels (at the project's
height) to each side: sigma = radius / 2, so 95 % of the spread lies within the radius. Animated,
the sigma is sent to the filter before each frame whose value changes (``gblur`` takes commands,
not expressions); sigmaV is always set with it (``gblur`` fixes an unset one when configured)."""

from __future__ import annotations

from typing import ClassVar, Literal

from ..fields import animatable, constant
from .base import Effect, EffectContext
from .color import _num


class BlurEffect(Effect):
    type: Literal["blur"]
    radius: animatable(0, 100) = constant(5.0)

    COST: ClassVar[float] = 23.0  # bench/bench_effects.py

    @property
    def weight(self) -> float:
        return 0.0 if self.radius.constant == 0.0 else self.COST
    CAPCUT: ClassVar[tuple[str, ...]] = ("blur", "模糊", "gaussian blur", "高斯模糊")

    def chain(self, ctx: EffectContext) -> list[str]:
        if self.radius.constant == 0.0:
            return []
        scale = float(ctx.scale_y) / 2

        def sigma(v: float) -> list[tuple[str, str]]:
            # both directions: gblur copies sigma into an unset sigmaV once, when it is configured
            return [("sigma", _num(v * scale)), ("sigmaV", _num(v * scale))]

        target = ctx.instance("gblur")
        return [*ctx.commands(target, self.radius, sigma),
                f"{target}=" + ":".join(f"{k}={v}" for k, v in sigma(ctx.start(self.radius)))]
