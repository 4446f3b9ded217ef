"""Building a project document from another editor's timeline: names, exact times, warnings.

Both importers (CapCut drafts and OTIO) fill a ``ProjectBuilder``; it hands out valid unique ids,
writes times as exact rational text on the output frame grid, and collects every warning with the
place in the source timeline it came from, so that nothing is dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from engines.model.timebase import fraction_text, snap_to_frame

_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
# rates that editors write as decimals: the exact NTSC rationals they mean
_NTSC = {Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120)}


@lru_cache(maxsize=256)
def exact_rate(rate: float | int | str | Fraction) -> Fraction:
    """An editor's frame rate (23.976, 29.97, 30.0, 24000/1001 as a double) as the exact rational."""
    if isinstance(rate, Fraction):
        return rate
    value = Fraction(str(rate)) if not isinstance(rate, float) else Fraction(Decimal(repr(rate)))
    if value.denominator == 1:
        return value
    for ntsc in _NTSC:
        if abs(value - ntsc) < Fraction(1, 100):
            return ntsc
    if abs(value - round(value)) < Fraction(1, 1000):
        return Fraction(round(value))
    return value.limit_denominator(1001)


def exact_number(value: float | int) -> Fraction:
    """A JSON number as the decimal it was written as (0.1 -> 1/10, not the binary double)."""
    return Fraction(value) if isinstance(value, int) else Fraction(Decimal(repr(float(value))))


def time_text(seconds: Fraction) -> str:
    return fraction_text(seconds)


def file_name(path: str) -> str:
    """The last part of a path written on any machine (``C:\\Users\\x\\a.mp4`` -> ``a.mp4``)."""
    if "\\" in path or re.match(r"^[A-Za-z]:", path):
        return PureWindowsPath(path).name
    return PurePosixPath(path).name


@dataclass
class ProjectBuilder:
    fps: Fraction
    warnings: list[str] = field(default_factory=list)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    tracks: list[dict[str, Any]] = field(default_factory=list)
    _asset_by_source: dict[str, str] = field(default_factory=dict)
    _ids: set[str] = field(default_factory=set)
    _asset_ids: set[str] = field(default_factory=set)

    def warn(self, where: str, message: str) -> None:
        self.warnings.append(f"{where}: {message}" if where else message)

    def snap(self, seconds: Fraction) -> Fraction:
        """Seconds on the output frame grid (nearest frame, ties to the earlier one)."""
        return Fraction(snap_to_frame(seconds, self.fps)) / self.fps

    def unique_id(self, wanted: str, fallback: str, *, taken: set[str] | None = None) -> str:
        """A valid id from ``wanted``, made unique with ``_2``, ``_3``... (clips and tracks share one set)."""
        taken = self._ids if taken is None else taken
        base = _NOT_NAME.sub("_", wanted).strip("_.-")[:56] or fallback
        if not base[0].isalnum():
            base = fallback
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        return name

    def asset_for(self, source: str, label: str | None = None) -> str:
        """The asset name for a media path (or a missing media's label), one asset per source."""
        if source in self._asset_by_source:
            return self._asset_by_source[source]
        stem = (label or file_name(source)).rsplit(".", 1)[0] or "media"
        name = self.unique_id(stem, "media", taken=self._asset_ids)
        self.assets[name] = {"path": source}
        self._asset_by_source[source] = name
        return name

    def add_track(self, wanted_id: str, kind: str, clips: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        track = {"id": self.unique_id(wanted_id, kind), "kind": kind, "clips": clips, **extra}
        self.tracks.append(track)
        return track
