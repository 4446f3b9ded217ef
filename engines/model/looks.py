"""The looks a picture clip has beside its ``filters``: a ``mask`` (what part of it shows), a
``blend`` mode (how it combines with what is below it) and a ``canvas`` (what fills the bars of a
contained clip on a video track). Planning draws them in ``engines.planning`` (masks, blends,
canvas); this module is their document form."""

from __future__ import annotations

from typing import Annotated, Literal

from .fields import Color, Keyframes, Strict, animatable, by_type, constant, ranged

BLEND_MODES = ("normal", "multiply", "screen", "overlay", "darken", "lighten", "add", "difference")
Blend = Literal["normal", "multiply", "screen", "overlay", "darken", "lighten", "add", "difference"]
MASK_SHAPES = ("rectangle", "ellipse", "linear", "mirror")
# CapCut/JianYing names (lower case) -> these: mix modes by their app names, masks by resource_type
CAPCUT_BLENDS = {"normal": "normal", "正常": "normal", "multiply": "multiply", "正片叠底": "multiply",
                 "screen": "screen", "滤色": "screen", "overlay": "overlay", "叠加": "overlay",
                 "darken": "darken", "变暗": "darken", "lighten": "lighten", "变亮": "lighten",
                 "add": "add", "linear dodge": "add", "线性减淡": "add", "difference": "difference", "差值": "difference"}
CAPCUT_MASKS = {"line": "linear", "线性": "linear", "mirror": "mirror", "镜面": "mirror", "circle": "ellipse",
                "圆形": "ellipse", "rectangle": "rectangle", "矩形": "rectangle"}


class Mask(Strict):
    """A shape in the clip's own frame (fractions of its width and height): inside shows, outside is
    transparent; ``feather`` softens the edge (a fraction of the shorter side), ``invert`` swaps
    them. ``linear`` keeps one side of a line through (x, y) at ``rotation`` degrees; ``mirror`` a
    band of ``height`` around that line."""
    shape: Literal["rectangle", "ellipse", "linear", "mirror"]
    x: animatable(-1, 2) = constant(0.5)
    y: animatable(-1, 2) = constant(0.5)
    width: animatable(0, 4) = constant(1.0)
    height: animatable(0, 4) = constant(1.0)
    rotation: animatable(-3600, 3600) = constant(0.0)
    feather: animatable(0, 1) = constant(0.0)
    invert: bool = False

    def keyframed(self) -> dict[str, Keyframes]:
        return {name: getattr(self, name) for name in ("x", "y", "width", "height", "rotation", "feather")}


class BlurCanvas(Strict):
    type: Literal["blur"]
    amount: Annotated[float, ranged(0, 1)] = 0.5


class ColorCanvas(Strict):
    type: Literal["color"]
    color: Color


class ImageCanvas(Strict):
    type: Literal["image"]
    asset: str


CANVAS_TAG = "canvas:"  # the tag pydantic puts in an error's location (left out of the JSON path)
_CANVASES = {"blur": BlurCanvas, "color": ColorCanvas, "image": ImageCanvas}


Canvas = by_type(CANVAS_TAG, _CANVASES, "canvas")
