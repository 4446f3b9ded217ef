"""``vignette``: the corners darkened as by a lens (``vignette``, its angle = amount × 90°): a pixel
at distance d from the centre (1 at the corners) is multiplied by cos⁴(amount × 90° × d), so a
corner by cos⁴(amount × 90°). ``vignette`` evaluates the angle once a frame; it does not keep
alpha, so a picture with alpha has its alpha taken aside and put back."""

from __future__ import annotations

from typing import ClassVar, Literal

from ..fields import animatable, constant
from .base import Effect, EffectContext


class VignetteEffect(Effect):
    type: Literal["vignette"]
    amount: animatable(0, 1) = constant(0.5)

    COST: ClassVar[float] = 21.0  # bench/bench_effects.py

    @property
    def weight(self) -> float:
        return 0.0 if self.amount.constant == 0.0 else self.COST

    CAPCUT: ClassVar[tuple[str, ...]] = ("vignette", "暗角")

    def chain(self, ctx: EffectContext) -> list[str]:
        if self.amount.constant == 0.0:
            return []
        angle = f"{ctx.curve(self.amount)}*PI/2"
        vignette = f"vignette=angle={angle}:dither=0" + (":eval=frame" if self.animated else "")
        if not ctx.alpha:
            return [vignette]
        tag = ctx.instance("vignette").split("@")[1]
        return [f"format=pix_fmts=yuva420p|yuva444p,split=2[{tag}c][{tag}a];[{tag}a]alphaextract[{tag}m];[{tag}c]{vignette}[{tag}v];"
                f"[{tag}v][{tag}m]alphamerge"]
