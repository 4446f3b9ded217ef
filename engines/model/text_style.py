"""How a text clip looks and moves beside its font, size and colour: an outline (``stroke``), a
``shadow``, a ``box`` behind it, alignment and wrapping, weight and slant, and the animations it
comes in and goes out with. Sizes are pixels at the project height (scaled to the output)."""

from __future__ import annotations

from typing import Annotated, Literal

from .fields import Color, Strict, Time, ranged

ANIMATIONS = ("fade", "slide_up", "slide_left", "pop", "typewriter")
# CapCut/JianYing text animation names (words in them, lower case) -> these, the first match wins
CAPCUT_ANIMATIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("打字", "typewriter", "typing"), "typewriter"),
    (("向上滑动", "滑动上升", "向下滑动", "滑动下落", "slide up", "slide down", "rise"), "slide_up"),
    (("向左滑动", "向右滑动", "slide left", "slide right"), "slide_left"),
    (("弹入", "弹出", "放大", "缩小", "缩放", "pop", "zoom", "bounce"), "pop"),
    (("渐显", "渐隐", "溶解", "fade", "dissolve"), "fade"),
)


class Stroke(Strict):
    color: Color = "#000000"
    width: Annotated[float, ranged(0, 100)] = 2


class Shadow(Strict):
    color: Color = "#000000"
    x: Annotated[float, ranged(-200, 200)] = 2
    y: Annotated[float, ranged(-200, 200)] = 2
    blur: Annotated[float, ranged(0, 100)] = 0


class Box(Strict):
    color: Color = "#000000"
    opacity: Annotated[float, ranged(0, 1)] = 0.5
    padding: Annotated[float, ranged(0, 500)] = 10
    radius: Annotated[float, ranged(0, 500)] = 0


class TextAnimation(Strict):
    """An entrance (``animation_in``, from the clip's start) or exit (``animation_out``, ending at
    its end) lasting ``duration`` seconds."""
    type: Literal["fade", "slide_up", "slide_left", "pop", "typewriter"]
    duration: Time
