"""Chunks: the output split on frame boundaries that are also keyframe boundaries.

Each chunk's video is encoded on its own as closed GOPs with identical encoder settings, so
the chunks join by stream copy. Boundaries fall on multiples of the GOP so that the joined
file has the same keyframe cadence as a single-pass encode.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ConfigDict

from engines.model.timebase import parse_time


class Chunk(BaseModel):
    model_config = ConfigDict(frozen=True)
    index: int
    start_frame: int
    end_frame: int

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame


def plan_chunks(frames: int, gop: int, chunk_frames: int | None) -> list[Chunk]:
    """``[0, frames)`` in chunks of about ``chunk_frames`` (rounded to whole GOPs); one chunk if None.

    A last chunk shorter than half a chunk is merged into the one before it.
    """
    if not chunk_frames or chunk_frames >= frames:
        return [Chunk(index=0, start_frame=0, end_frame=frames)]
    size = max(gop, round(chunk_frames / gop) * gop)
    bounds = list(range(0, frames, size)) + [frames]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < size // 2:
        del bounds[-2]
    return [Chunk(index=i, start_frame=s, end_frame=e) for i, (s, e) in enumerate(zip(bounds, bounds[1:]))]


def chunk_frames_of(chunk_seconds: Any, fps: Fraction) -> int | None:
    """A chunk length in seconds (any time value) as whole output frames; None for one chunk."""
    if not chunk_seconds:
        return None
    return max(1, round(parse_time(chunk_seconds) * fps))
