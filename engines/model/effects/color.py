"""``color``: brightness, contrast and saturation (ffmpeg's ``eq``), each animatable."""

from __future__ import annotations

from typing import ClassVar, Literal

from ..fields import animatable, constant
from .base import Effect, EffectContext


class ColorEffect(Effect):
    type: Literal["color"]
    brightness: animatable(-1, 1) = constant(0.0)
    contrast: animatable(0, 3) = constant(1.0)
    saturation: animatable(0, 3) = constant(1.0)

    COST: ClassVar[float] = 1.0

    def chain(self, ctx: EffectContext) -> list[str]:
        values = ":".join(f"{name}={ctx.curve(getattr(self, name))}"
                          for name in ("brightness", "contrast", "saturation"))
        return [f"eq={values}" + (":eval=frame" if self.animated else "")]
