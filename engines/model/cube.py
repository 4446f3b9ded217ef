"""A ``.cube`` 3D LUT (Adobe/Resolve text format) checked before ffmpeg's ``lut3d`` reads it.

Pure: the caller reads the file and passes its text. What ffmpeg accepts is what passes here:
``LUT_3D_SIZE`` from 2 to 256 (``lut3d``'s limit), optional ``TITLE``, ``DOMAIN_MIN`` and
``DOMAIN_MAX`` (three numbers each, min below max), ``#`` comments and blank lines, then exactly
size³ rows of three numbers. A problem names its line: ``line 12: expected 3 numbers, got 2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_SIZE, MAX_SIZE = 2, 256  # ffmpeg's lut3d (MAX_LEVEL)
SUFFIX = ".cube"
MAX_BYTES = 64 * 1024 * 1024  # a 129-point .cube is about 55 MB


@dataclass(frozen=True)
class Cube:
    size: int
    domain_min: tuple[float, float, float] = (0.0, 0.0, 0.0)
    domain_max: tuple[float, float, float] = (1.0, 1.0, 1.0)
    title: str = ""


class CubeError(ValueError):
    """A malformed ``.cube`` file; the message starts with the line (``line 12: ...``) where there is one."""


def _numbers(words: list[str], n: int, line: int, what: str) -> tuple[float, ...]:
    if len(words) != n:
        raise CubeError(f"line {line}: expected {n} numbers{what}, got {len(words)}")
    try:
        values = tuple(float(w) for w in words)
    except ValueError:
        bad = next(w for w in words if not _is_number(w))
        raise CubeError(f"line {line}: not a number: {bad[:40]!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise CubeError(f"line {line}: numbers must be finite")
    return values


def _is_number(w: str) -> bool:
    try:
        float(w)
    except ValueError:
        return False
    return True


def parse_cube(text: str) -> Cube:
    """The LUT's header, once every row is checked; ``CubeError`` names the first bad line."""
    size: int | None = None
    title = ""
    lo: tuple[float, ...] = (0.0, 0.0, 0.0)
    hi: tuple[float, ...] = (1.0, 1.0, 1.0)
    rows = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        key = words[0]
        if key[0].isalpha() and not _is_number(key):
            if rows:
                raise CubeError(f"line {number}: {key} after the table's rows")
            if key == "TITLE":
                title = line[len(key):].strip().strip('"')
            elif key == "LUT_3D_SIZE":
                if len(words) != 2 or not words[1].isdigit():
                    raise CubeError(f"line {number}: LUT_3D_SIZE takes one whole number")
                size = int(words[1])
                if not MIN_SIZE <= size <= MAX_SIZE:
                    raise CubeError(f"line {number}: LUT_3D_SIZE {size} is outside {MIN_SIZE}..{MAX_SIZE}")
            elif key == "DOMAIN_MIN":
                lo = _numbers(words[1:], 3, number, " after DOMAIN_MIN")
            elif key == "DOMAIN_MAX":
                hi = _numbers(words[1:], 3, number, " after DOMAIN_MAX")
            elif key == "LUT_1D_SIZE":
                raise CubeError(f"line {number}: a 1D LUT; only 3D LUTs (LUT_3D_SIZE) are supported")
            else:
                raise CubeError(f"line {number}: unknown keyword {key[:40]!r}")
            continue
        if size is None:
            raise CubeError(f"line {number}: a row before LUT_3D_SIZE")
        _numbers(words, 3, number, "")
        rows += 1
        if rows > size ** 3:
            raise CubeError(f"line {number}: more than {size ** 3} rows (LUT_3D_SIZE {size})")
    if size is None:
        raise CubeError("no LUT_3D_SIZE line")
    if any(a >= b for a, b in zip(lo, hi)):
        raise CubeError(f"DOMAIN_MIN {' '.join(f'{v:g}' for v in lo)} is not below DOMAIN_MAX "
                        f"{' '.join(f'{v:g}' for v in hi)} in every channel")
    if rows != size ** 3:
        raise CubeError(f"{rows} rows, expected {size ** 3} (LUT_3D_SIZE {size})")
    return Cube(size, (lo[0], lo[1], lo[2]), (hi[0], hi[1], hi[2]), title)


def is_cube(path: str) -> bool:
    return path.lower().endswith(SUFFIX)


def check_cube_bytes(data: bytes) -> Cube:
    """``parse_cube`` of a file's bytes (UTF-8, a BOM allowed), within ``MAX_BYTES``."""
    if len(data) > MAX_BYTES:
        raise CubeError(f"LUT file of {len(data)} bytes is over the {MAX_BYTES} byte limit")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CubeError("not a .cube LUT (not text)") from None
    return parse_cube(text)
