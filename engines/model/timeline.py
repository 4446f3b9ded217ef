"""Clips placed on a frame grid: half-open ``[start, end)`` frame ranges.

The editor's grid is the project fps. A render at a lower rate shows, at each of its frames,
the timeline frame at that moment (with profiles' whole-divisor rates, output frame ``k`` is
timeline frame ``k * n``): every boundary ``b`` maps to the first output frame at or after it,
``ceil(b / project_fps * out_fps)``. The map is monotonic, so clips that touch still touch,
transitions keep their overlap and nothing overlaps that did not; a clip whose first output
frame falls inside it carries that ``offset`` into its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .project import Clip, Project, clip_length_seconds
from .timebase import snap_to_frame


@dataclass(frozen=True)
class PlacedClip:
    track_index: int
    track_kind: str
    clip_index: int
    clip: Clip
    start: int  # first frame on the timeline
    end: int    # one past the last frame
    transition_frames: int = 0  # overlap with the previous clip on a video track
    head: int = 0  # frames of the clip cut off before a window's start (0 in a full timeline)
    # seconds of the clip already past at its first frame on this grid (a lower-rate grid whose
    # frame falls inside the clip's first project frames); its origin is that much earlier
    offset: Fraction = Fraction(0)

    @property
    def frames(self) -> int:
        return self.end - self.start

    @property
    def origin(self) -> int:
        """Where the whole clip would start on this timeline (keyframes are relative to it),
        ``offset`` seconds later than its true start."""
        return self.start - self.head

    @property
    def path(self) -> str:
        return f"tracks[{self.track_index}].clips[{self.clip_index}]"


@dataclass(frozen=True)
class Timeline:
    fps: Fraction
    frames: int
    tracks: tuple[tuple[PlacedClip, ...], ...]  # bottom track first; clips by start

    def clips(self):
        for track in self.tracks:
            yield from track

    def at_rate(self, fps: Fraction) -> "Timeline":
        if fps == self.fps:
            return self

        def m(frame: int) -> int:  # the first output frame at or after a timeline frame
            return -(-frame * fps // self.fps)

        tracks = []
        for track in self.tracks:
            placed = []
            for pc in track:
                start, end = m(pc.start), m(pc.end)
                # the overlap ends where the previous clip ends: map that boundary too
                trans = m(pc.start + pc.transition_frames) - start
                offset = Fraction(start) / fps - Fraction(pc.start) / self.fps
                placed.append(PlacedClip(pc.track_index, pc.track_kind, pc.clip_index, pc.clip,
                                         start, end, trans, offset=offset))
            tracks.append(tuple(placed))
        return Timeline(fps, m(self.frames), tuple(tracks))

    def window(self, start: int, end: int) -> tuple["Timeline", int]:
        """The frames ``[start, end)`` as a timeline of their own, and the lead to trim.

        A window edge inside a transition's overlap moves outward to the overlap's edge (an
        ``xfade`` needs both clips whole across it); the returned lead is how many frames the
        extended window has before ``start``, to be trimmed after rendering.
        """
        if not 0 <= start < end <= self.frames:
            raise ValueError(f"window [{start}, {end}) outside the timeline [0, {self.frames})")
        a, b = start, end
        for track in self.tracks:
            for pc in track:
                if pc.transition_frames:
                    overlap_start, overlap_end = pc.start, pc.start + pc.transition_frames
                    if overlap_start < a < overlap_end:
                        a = overlap_start
                    if overlap_start < b < overlap_end:
                        b = overlap_end
        tracks = []
        for track in self.tracks:
            placed = []
            for pc in track:
                if pc.end <= a or pc.start >= b or pc.frames <= 0:
                    continue
                head = max(0, a - pc.start)
                trans = pc.transition_frames if pc.start >= a else 0
                placed.append(PlacedClip(pc.track_index, pc.track_kind, pc.clip_index, pc.clip,
                                         max(pc.start, a) - a, min(pc.end, b) - a, trans, pc.head + head,
                                         pc.offset))
            tracks.append(tuple(placed))
        return Timeline(self.fps, b - a, tuple(tracks)), start - a


def place_project(project: Project) -> Timeline:
    """The project's clips on its own frame grid (assumes ``load_project`` validated it)."""
    fps = project.settings.fps
    tracks = []
    total = 0
    for ti, track in enumerate(project.tracks):
        placed = []
        # captions are drawn over the picture (engines.planning.captions): they place no frames and
        # never lengthen the output
        for ci, clip in enumerate(track.clips if track.kind != "captions" else ()):
            length = clip_length_seconds(clip)
            assert length is not None, "validated projects have a length for every clip"
            start = snap_to_frame(clip.start, fps)
            end = start + snap_to_frame(length, fps)
            trans = snap_to_frame(clip.transition_in.duration, fps) if clip.transition_in else 0
            placed.append(PlacedClip(ti, track.kind, ci, clip, start, end, trans))
            total = max(total, end)
        placed.sort(key=lambda pc: (pc.start, pc.clip_index))
        tracks.append(tuple(placed))
    return Timeline(fps, total, tuple(tracks))
