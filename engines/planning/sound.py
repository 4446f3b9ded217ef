"""How a timeline's sound is laid out so that its cost grows linearly with the clip count (pure).

ffmpeg's filter-graph scheduler looks at every filter of the graph for each step it takes, so a
graph's cost grows with (filters x steps): an input and a mix branch per clip made a 600-clip
timeline's audio quadratic (measured: 100 clips 1.6 s, 300 clips 13.5 s, 600 clips past its
timeout). Three rules keep every graph small and every step cheap:

- **lanes**: clips whose sound does not overlap in time are joined in order into one continuous
  stream (silence in the gaps); only clips that do overlap (a transition's two sides, overlay or
  audio-track clips under others) go on another lane. A graph mixes its few lanes, not its clips.
- **source runs**: clips reading the same source within ``SOURCE_RUN`` seconds of it share one
  input, decoded once and split: a montage of 2,000 cuts of one source opens it a few times per
  window, not 2,000 times; the span bound keeps the decoded audio held for later clips small.
- **windows**: a long timeline's sound is planned in windows of at most ``WINDOW_CLIPS`` clips,
  cut where a clip starts; each window is rendered to PCM and the PCM joined byte-exactly before
  one AAC encode (no priming at the seams).
"""

from __future__ import annotations

import heapq
from fractions import Fraction

from engines.model.timeline import Timeline

SOURCE_RUN = Fraction(30)   # source seconds one shared input may span
WINDOW_CLIPS = 48           # clips starting in one audio window


def assign_lanes(spans: list[tuple[int, int]]) -> list[int]:
    """The lane of each ``(start, end)`` span: the lane that is free the earliest, if it is free
    by the span's start, else a new one (the fewest lanes; spans are taken in order of start)."""
    lanes = [0] * len(spans)
    free: list[tuple[int, int]] = []  # (end of its last span, lane)
    count = 0
    for i in sorted(range(len(spans)), key=lambda k: (spans[k][0], k)):
        start, end = spans[i]
        if free and free[0][0] <= start:
            _, lane = heapq.heappop(free)
        else:
            lane, count = count, count + 1
        lanes[i] = lane
        heapq.heappush(free, (end, lane))
    return lanes


def source_runs(reads: list[tuple[Fraction, Fraction]], limit: Fraction = SOURCE_RUN) -> list[list[int]]:
    """Indices of ``(first, last)`` source-second reads grouped into runs that each span at most
    ``limit`` seconds of the source (a read longer than that is a run of its own)."""
    runs: list[list[int]] = []
    low = high = Fraction(0)
    for i in sorted(range(len(reads)), key=lambda k: (reads[k][0], k)):
        first, last = reads[i]
        if runs and max(high, last) - low <= limit:
            runs[-1].append(i)
            high = max(high, last)
        else:
            runs.append([i])
            low, high = first, last
    return runs


def audio_windows(timeline: Timeline, max_clips: int = WINDOW_CLIPS) -> list[tuple[int, int]]:
    """``[a, b)`` output frames covering the timeline, each with at most ``max_clips`` clips
    starting in it, cut where a clip starts (never inside a clip's own fade-in)."""
    starts = sorted(pc.start for track in timeline.tracks for pc in track if pc.frames > 0 and not pc.clip.is_text)
    cuts = sorted({starts[k] for k in range(max_clips, len(starts), max_clips)} - {0})
    edges = [0, *(c for c in cuts if 0 < c < timeline.frames), timeline.frames]
    return list(zip(edges, edges[1:]))
