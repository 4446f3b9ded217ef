"""``chroma_key``: pixels near a colour made transparent (``chromakey``), the colour's spill taken
out of what remains (``despill``).

- The key colour is given to ``chromakey`` in BT.709 limited-range YUV (the stream's own), so
  the key is the colour as the picture carries it.
- ``similarity`` is the distance from the key colour in the chroma plane (U, V), in units of the
  key colour's own distance from grey (1: as far as grey), under which a pixel is fully
  transparent; ``smoothness`` the distance (same units) over which it then grows opaque (0: a
  hard edge). ``chromakey`` measures each pixel's distance as the mean over its 3×3 chroma
  neighbourhood.
- ``spill``: the part of the key channel's excess over the mean of the other two that is taken
  out of every remaining pixel (``despill``, in RGB: 1 takes it all, so no edge is greener than
  its red and blue). Only green and blue keys (the key colour's strongest channel) have spill.

Animated fields are sent before each frame whose value changes (the filters take commands).
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from ..fields import Color, animatable, constant
from .base import Effect, EffectContext
from .color import _num

TO_RGB = "scale=in_color_matrix=bt709:in_range=tv,format=pix_fmts=rgba"  # despill takes packed RGB
FROM_RGB = "scale=out_color_matrix=bt709:out_range=tv"


def bt709_yuv(color: str) -> tuple[int, int, int]:
    """``#RRGGBB`` (sRGB, full range) as BT.709 limited-range 8-bit Y, U, V."""
    r, g, b = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    u, v = (b - y) / 1.8556, (r - y) / 1.5748
    return round(16 + 219 * y), round(128 + 224 * u), round(128 + 224 * v)


def chroma_unit(u: int, v: int) -> float:
    """The key colour's distance from grey in ``chromakey``'s measure (sqrt((du² + dv²) / (2·255²))),
    at least 0.1 (a near-grey key)."""
    return max(0.1, math.sqrt(((u - 128) ** 2 + (v - 128) ** 2) / (2 * 255 ** 2)))


class ChromaKeyEffect(Effect):
    type: Literal["chroma_key"]
    color: Color = "#00FF00"
    similarity: animatable(0, 1) = constant(0.3)
    smoothness: animatable(0, 1) = constant(0.1)
    spill: animatable(0, 1) = constant(0.5)

    COST: ClassVar[float] = 485.0  # chromakey (9 chroma distances a pixel), RGB in and out, despill, the lay-over
    CAPCUT: ClassVar[tuple[str, ...]] = ("chroma key", "chroma", "色度抠图", "抠像")
    ALPHA: ClassVar[bool] = True

    def chain(self, ctx: EffectContext) -> list[str]:
        y, u, v = bt709_yuv(self.color)
        key = ctx.instance("chromakey")
        unit = chroma_unit(u, v)

        def similarity(x: float) -> list[tuple[str, str]]:
            return [("similarity", _num(max(x * unit, 0.00001)))]

        def blend(x: float) -> list[tuple[str, str]]:
            return [("blend", _num(x * unit))]

        out = [*ctx.commands(key, self.similarity, similarity), *ctx.commands(key, self.smoothness, blend),
               f"{key}=color=0x{y:02X}{u:02X}{v:02X}:yuv=1"
               f":similarity={similarity(ctx.start(self.similarity))[0][1]}"
               f":blend={blend(ctx.start(self.smoothness))[0][1]}"]
        r, g, b = (int(self.color[i:i + 2], 16) for i in (1, 3, 5))
        if self.spill.constant == 0.0 or max(g, b) <= r:
            return out
        screen = "green" if g >= b else "blue"
        despill = ctx.instance("despill")

        def scale(x: float) -> list[tuple[str, str]]:
            return [(screen, _num(-x))]

        return [*out, TO_RGB, *ctx.commands(despill, self.spill, scale),
                f"{despill}=type={screen}:mix=0.5:expand=0:{screen}={scale(ctx.start(self.spill))[0][1]}", FROM_RGB]
