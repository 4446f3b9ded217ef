"""Exact time: seconds as ``Fraction``, frames as ``int`` at a ``Fraction`` rate.

Float seconds never take part in a cut decision; ``to_ffmpeg_seconds`` turns a
Fraction into ffmpeg's decimal text only when argv is built.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

_RATIONAL = re.compile(r"^\s*(-?\d+)\s*/\s*(\d+)\s*$")
_DECIMAL = re.compile(r"^\s*-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


def parse_time(value: object) -> Fraction:
    """A JSON number or a rational string (``"1001/30000"``) as exact seconds."""
    if isinstance(value, bool):
        raise ValueError("must be a number of seconds or a rational string like \"1001/30000\"")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number of seconds")
        # repr() is the shortest decimal that round-trips: 0.1 -> 1/10, not the binary double.
        return Fraction(Decimal(repr(value)))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("must be a finite number of seconds")
        return Fraction(value)
    if isinstance(value, Fraction):
        return value
    if isinstance(value, str):
        m = _RATIONAL.match(value)
        if m:
            den = int(m.group(2))
            if den == 0:
                raise ValueError("rational time has a zero denominator")
            return Fraction(int(m.group(1)), den)
        if _DECIMAL.match(value):
            return Fraction(Decimal(value.strip()))
    raise ValueError("must be a number of seconds or a rational string like \"1001/30000\"")


def parse_fps(value: object) -> Fraction:
    """A positive integer or a rational string; a decimal such as 29.97 is refused."""
    if isinstance(value, bool):
        raise ValueError("must be a positive integer or a rational string like \"30000/1001\"")
    if isinstance(value, Fraction):
        fps = value
    elif isinstance(value, int):
        fps = Fraction(value)
    elif isinstance(value, str) and _RATIONAL.match(value):
        fps = parse_time(value)
    elif isinstance(value, str) and value.strip().isdigit():
        fps = Fraction(int(value))
    elif isinstance(value, (float, Decimal, str)):
        if isinstance(value, (float, Decimal)) and value == int(value):
            fps = Fraction(int(value))
        else:
            hint = "30000/1001" if str(value).strip() in ("29.97", "29.970") else "an exact rational"
            raise ValueError(f"decimal frame rates are ambiguous: write {hint!s} as a string, "
                             f"e.g. \"30000/1001\" for 29.97")
    else:
        raise ValueError("must be a positive integer or a rational string like \"30000/1001\"")
    if fps <= 0:
        raise ValueError("must be positive")
    if fps > 240:
        raise ValueError("must be at most 240")
    return fps


# These run tens of thousands of times when a long timeline is planned: they work on the numerators and
# denominators as integers (one divmod) rather than building intermediate Fractions (each a gcd), with
# the same results exactly.

def _nearest(num: int, den: int) -> int:
    """``num / den`` (den > 0) rounded to the nearest integer, exact ties down."""
    floor, rest = divmod(num, den)
    return floor if 2 * rest <= den else floor + 1


def snap_to_frame(seconds: Fraction, fps: Fraction) -> int:
    """Nearest frame index on the grid of ``fps``; exact ties go to the earlier frame."""
    return _nearest(seconds.numerator * fps.numerator, seconds.denominator * fps.denominator)


def frames_to_seconds(frames: int, fps: Fraction) -> Fraction:
    return Fraction(frames * fps.denominator, fps.numerator)


def frames_to_samples(frames: int, fps: Fraction, sample_rate: int) -> int:
    """Audio samples that cover ``frames`` video frames (nearest sample, ties down)."""
    return _nearest(frames * fps.denominator * sample_rate, fps.numerator)


def to_ffmpeg_seconds(seconds: Fraction) -> str:
    """Decimal text for argv. Microseconds are ffmpeg's own resolution (AV_TIME_BASE)."""
    micros = _nearest(seconds.numerator * 1_000_000, seconds.denominator)
    sign = "-" if micros < 0 else ""
    micros = abs(micros)
    return f"{sign}{micros // 1_000_000}.{micros % 1_000_000:06d}"


def fraction_text(value: Fraction) -> str:
    """``30000/1001`` or ``30``: how a rate is written in ffmpeg options and in plans."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
