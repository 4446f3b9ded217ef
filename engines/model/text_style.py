"""How a text clip looks and moves beside its font, size and colour: an outline (``stroke``), a
``shadow``, a ``box`` behind it, alignment and wrapping, weight and slant, and the animations it
comes in and goes out with. Sizes are pixels at the project height (scaled to the output)."""

from __future__ import annotations

from typing import Annotated, Literal

from .fields import Color, Strict, Time, ranged

ANIMATIONS = ("fade", "slide_up", "slide_left", "pop", "typewriter")


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
