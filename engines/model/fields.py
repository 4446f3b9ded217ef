"""The field types every part of the document shares: exact times, colours, ranged numbers and
keyframes (a number or keys with eases), and the strict base model.

A module of its own so the effects (``engines.model.effects``) and the project can both use them
without importing each other.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, PlainSerializer, Tag, model_serializer

from .motion import EASE_NAMES, Ease
from .motion import value_at as motion_value_at
from .template import COLOR_RE
from .timebase import fraction_text, parse_fps, parse_time


def ranged(lo: float, hi: float):
    def check(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):
            raise ValueError(f"must be a number between {lo:g} and {hi:g}")
        f = float(v)
        if not lo <= f <= hi:
            raise ValueError(f"must be between {lo:g} and {hi:g}")
        return f
    return BeforeValidator(check)


def time_validator(v: Any) -> Fraction:
    t = parse_time(v)
    if t < 0:
        raise ValueError("must be >= 0 seconds")
    return t


def _speed_validator(v: Any) -> Fraction:
    s = parse_time(v)
    if not Fraction(1, 10) <= s <= 16:
        raise ValueError("must be between 0.1 and 16")
    return s


def _fps_validator(v: Any) -> Fraction:
    return parse_fps(v)


def regex(pattern: re.Pattern[str], what: str):
    def check(v: Any) -> str:
        if not isinstance(v, str) or not pattern.fullmatch(v):
            raise ValueError(f"invalid {what}: must match {pattern.pattern}")
        return v
    return BeforeValidator(check)


_fraction_out = PlainSerializer(fraction_text, return_type=str)
Time = Annotated[Fraction, BeforeValidator(time_validator), _fraction_out]
Speed = Annotated[Fraction, BeforeValidator(_speed_validator), _fraction_out]
Fps = Annotated[Fraction, BeforeValidator(_fps_validator), _fraction_out]
Color = Annotated[str, regex(COLOR_RE, "colour (#RRGGBB)")]


class Keyframes(BaseModel):
    """A constant or keyframes: ``[t, value]`` points held flat outside, each segment shaped by its
    first key's ease (``eases`` is empty when every segment is linear: the original form)."""

    model_config = ConfigDict(frozen=True)
    points: tuple[tuple[Fraction, float], ...]
    eases: tuple[Any, ...] = ()

    @model_serializer
    def _to_document(self) -> float | list[Any]:
        """Back to the project format: a number, or keys with exact times (``[t, value]`` when
        linear, ``{"t", "value", "ease"}`` otherwise)."""
        if len(self.points) == 1 and self.points[0][0] == 0:
            return self.points[0][1]
        out: list[Any] = []
        for i, (t, v) in enumerate(self.points):
            ease = self.eases[i] if self.eases else "linear"
            out.append([fraction_text(t), v] if ease == "linear" else
                       {"t": fraction_text(t), "value": v, "ease": list(ease) if isinstance(ease, tuple) else ease})
        return out

    @property
    def constant(self) -> float | None:
        values = {v for _, v in self.points}
        return self.points[0][1] if len(values) == 1 else None

    @property
    def linear(self) -> bool:
        return not self.eases

    def ease(self, i: int) -> Ease:
        return self.eases[i] if self.eases else "linear"

    def value_at(self, t: Fraction) -> float:
        return motion_value_at(self.points, self.eases, t)


def _ease(v: Any, overshoot: bool) -> Ease:
    if isinstance(v, str):
        if v not in EASE_NAMES:
            raise ValueError(f"ease must be one of {', '.join(EASE_NAMES)} or [x1, y1, x2, y2]")
        return v
    if not isinstance(v, (list, tuple)) or len(v) != 4 or any(
            isinstance(c, bool) or not isinstance(c, (int, float, Decimal)) for c in v):
        raise ValueError("ease must be one of " + ", ".join(EASE_NAMES) + " or a cubic Bézier [x1, y1, x2, y2]")
    x1, y1, x2, y2 = (round(float(c), 6) for c in v)
    if not (0 <= x1 <= 1 and 0 <= x2 <= 1):
        raise ValueError("ease Bézier x1 and x2 must be between 0 and 1")
    if overshoot and not (-10 <= y1 <= 10 and -10 <= y2 <= 10):
        raise ValueError("ease Bézier y1 and y2 must be between -10 and 10")
    if not overshoot and not (0 <= y1 <= 1 and 0 <= y2 <= 1):
        raise ValueError("ease Bézier y1 and y2 must be between 0 and 1 here (the value may not leave its keys' range)")
    return (x1, y1, x2, y2)


def keyframed(lo: float, hi: float, *, overshoot: bool = False):
    def check(v: Any) -> Keyframes:
        if isinstance(v, Keyframes):
            return v
        if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
            f = float(v)
            if not lo <= f <= hi:
                raise ValueError(f"must be between {lo:g} and {hi:g}")
            return Keyframes(points=((Fraction(0), f),))
        if not isinstance(v, list) or not v:
            raise ValueError(f"must be a number between {lo:g} and {hi:g} or a non-empty list of keyframes")
        points, eases = [], []
        for i, kf in enumerate(v):
            ease: Ease = "linear"
            if isinstance(kf, dict):
                unknown = sorted(set(kf) - {"t", "value", "ease"})
                if unknown or "t" not in kf or "value" not in kf:
                    raise ValueError(f"keyframe [{i}] must be [t, value] or {{\"t\", \"value\", \"ease\"}}"
                                     + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
                raw_t, val = kf["t"], kf["value"]
                if "ease" in kf:
                    try:
                        ease = _ease(kf["ease"], overshoot)
                    except ValueError as exc:
                        raise ValueError(f"keyframe [{i}] {exc}") from None
            elif isinstance(kf, (list, tuple)) and len(kf) == 2:
                raw_t, val = kf
            else:
                raise ValueError(f"keyframe [{i}] must be [t, value] or {{\"t\", \"value\", \"ease\"}}")
            try:
                t = time_validator(raw_t)
            except ValueError as exc:
                raise ValueError(f"keyframe [{i}] time {exc}") from None
            if isinstance(val, bool) or not isinstance(val, (int, float, Decimal)) or not lo <= float(val) <= hi:
                raise ValueError(f"keyframe [{i}] value must be between {lo:g} and {hi:g}")
            if points and t < points[-1][0]:
                raise ValueError(f"keyframe [{i}] is not sorted by time")
            points.append((t, float(val)))
            eases.append(ease)
        linear = all(e == "linear" for e in eases)
        return Keyframes(points=tuple(points), eases=() if linear else tuple(eases))
    return BeforeValidator(check)


Volume = Annotated[Keyframes, keyframed(0, 4)]
Opacity = Annotated[Keyframes, keyframed(0, 1)]
Position = Annotated[Keyframes, keyframed(-1, 2, overshoot=True)]
Scale = Annotated[Keyframes, keyframed(0.01, 4, overshoot=True)]
Rotation = Annotated[Keyframes, keyframed(-3600, 3600, overshoot=True)]
_ramp_keyframes = keyframed(0.1, 16).func


def _speed_or_ramp(v: Any) -> Fraction | Keyframes:
    """A constant speed (exact), or keyframes: a speed ramp."""
    if isinstance(v, (list, Keyframes)):
        return _ramp_keyframes(v)
    return _speed_validator(v)


def _speed_out(v: Fraction | Keyframes) -> Any:
    return fraction_text(v) if isinstance(v, Fraction) else v.model_dump()


SpeedField = Annotated[Fraction | Keyframes, BeforeValidator(_speed_or_ramp), PlainSerializer(_speed_out)]


def constant(v: float) -> Keyframes:
    return Keyframes(points=((Fraction(0), v),))


def animatable(lo: float, hi: float):
    return Annotated[Keyframes, keyframed(lo, hi)]



class Strict(BaseModel):
    """Frozen, no unknown fields: every document object is one of these."""
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


def by_type(tag: str, classes: dict[str, type[BaseModel]], what: str) -> Any:
    """A field that is one of ``classes``, chosen by the object's ``type``; an unknown type is one
    error listing the known ones. ``tag`` prefixes pydantic's location step (left out of JSON paths)."""
    def choose(v: Any) -> str | None:
        kind = v.get("type") if isinstance(v, dict) else getattr(v, "type", None)
        return f"{tag}{kind}" if kind in classes else None

    return Annotated[
        Union[tuple(Annotated[cls, Tag(f"{tag}{name}")] for name, cls in classes.items())],  # type: ignore[valid-type]
        Discriminator(choose, custom_error_type=f"{what}_type",
                      custom_error_message=f"unknown {what} type; known: {', '.join(sorted(classes))}"),
    ]
