"""Warnings for clips that use a damaged part of a source (pure).

Damage spans come from a full decode of the source (``engines.ffmpeg.damage``), stored in the
asset's meta; a plan names every visible clip whose source range overlaps one, with the asset,
the damaged span and the part the clip uses: nothing damaged is rendered silently.
"""

from __future__ import annotations

from fractions import Fraction

from engines.ffmpeg.probe import MediaInfo
from engines.model.timebase import frames_to_seconds
from engines.model.timeline import Timeline


def damage_warnings(timeline: Timeline, media: dict[str, MediaInfo]) -> list[str]:
    """One line per (clip, damaged span) it overlaps, in timeline order."""
    out = []
    for pc in sorted(timeline.clips(), key=lambda p: (p.start, p.track_index, p.clip_index)):
        clip = pc.clip
        info = media.get(clip.asset or "")
        if info is None or not info.damage or pc.frames <= 0 or info.kind == "image":
            continue
        first = (clip.source_in or Fraction(0)) + frames_to_seconds(pc.head, timeline.fps) * clip.rate
        last = first + frames_to_seconds(pc.frames, timeline.fps) * clip.rate
        for span in info.damage:
            if span.start < last and first < span.end:
                out.append(f"{pc.path}: \"{clip.asset}\" is damaged at {float(span.start):.2f}-{float(span.end):.2f} s "
                           f"of the source ({span.stream}: {span.example}); this clip uses "
                           f"{float(first):.2f}-{float(last):.2f} s")
    return out
