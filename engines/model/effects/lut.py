"""``lut``: a 3D LUT from a ``.cube`` asset (``lut3d``, tetrahedral), mixed with the picture by
``intensity``. The LUT works on RGB: the picture is turned into planar RGB with its matrix and
range stated (BT.709 limited) and back. Below full intensity the LUT's result and the picture
are mixed (``mix``, weights 1 - intensity and intensity); animated, the weights are sent before
each frame whose value changes."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from ..fields import animatable, constant
from .base import Effect, EffectContext
from .color import _num

TO_RGB = "scale=in_color_matrix=bt709:in_range=tv,format=pix_fmts=gbrp|gbrap|gbrp10|gbrap10"  # 10-bit stays 10-bit
FROM_RGB = "scale=out_color_matrix=bt709:out_range=tv"


class LutEffect(Effect):
    type: Literal["lut"]
    asset: str  # an asset whose file is a .cube LUT (checked by validation and gathering)
    intensity: animatable(0, 1) = constant(1.0)

    COST: ClassVar[float] = 155.0     # RGB in and out, lut3d (bench/bench_effects.py)
    MIX_COST: ClassVar[float] = 50.0  # below full intensity: split and mix besides
    CAPCUT: ClassVar[tuple[str, ...]] = ("lut", "filter lut")

    @classmethod
    def from_capcut(cls, name: str, intensity: float) -> dict[str, Any] | None:
        """Never: an app LUT's file stays in the app's folder, and a LUT without its file is nothing."""
        return None

    @property
    def weight(self) -> float:
        return 0.0 if self.intensity.constant == 0.0 else \
            self.COST + (self.MIX_COST if self.intensity.constant != 1.0 else 0.0)

    def assets(self) -> tuple[str, ...]:
        return (self.asset,)

    def chain(self, ctx: EffectContext) -> list[str]:
        if self.intensity.constant == 0.0:
            return []
        lut = f"lut3d=file={ctx.file(self.asset)}:interp=tetrahedral"
        if self.intensity.constant == 1.0:
            return [TO_RGB, lut, FROM_RGB]

        def weights(v: float) -> list[tuple[str, str]]:
            return [("weights", f"{_num(1 - v)}|{_num(v)}")]

        target = ctx.instance("mix")
        tag = target.split("@")[1]
        first = weights(ctx.start(self.intensity))[0][1]
        return [*ctx.commands(target, self.intensity, weights), TO_RGB,
                f"split=2[{tag}o][{tag}i];[{tag}i]{lut}[{tag}l];[{tag}o][{tag}l]{target}=weights={first}",
                FROM_RGB]
