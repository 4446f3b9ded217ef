"""The picture tracks composed: video tracks (clips, gaps and transitions, each track over the one
below), then overlay tracks (pictures and texts) over them, in document order."""

from __future__ import annotations

from engines.ffmpeg.probe import MediaInfo
from engines.model.project import Project
from engines.model.timeline import PlacedClip, Timeline
from engines.model.transitions import TRANSITIONS

from .blends import blend_overlay, blend_track
from .color import pinned_format
from .graph import Graph, Out
from .opacity import opacity_filters
from .picture import clip_picture, gap
from .text import draw_text
from .transitions import concat_labels, join_with_transition


def video_tracks(g: Graph, project: Project, timeline: Timeline, media: dict[str, MediaInfo],
                 out: Out) -> str:
    """The bottom video track over the background; higher video tracks composited over it."""
    base: str | None = None
    for track, placed in zip(project.tracks, timeline.tracks):
        if track.kind != "video":
            continue
        transparent = base is not None
        label = video_track(g, placed, media, out, timeline.frames, transparent)
        if base is None:
            base = label
        elif blended := [pc for pc in placed if pc.frames > 0 and pc.clip.blend != "normal"]:
            base = blend_track(g, base, label, blended, out, timeline.frames)
        else:
            base = g.add([base, label], ["overlay=0:0:eof_action=pass", pinned_format(out.pix_fmt)], "vt")
    if base is None:
        base = gap(g, timeline.frames, out, False)
    return base


def video_track(g: Graph, placed: tuple[PlacedClip, ...], media: dict[str, MediaInfo], out: Out,
                total: int, transparent: bool) -> str:
    pending: list[str] = []  # labels to concatenate, in order
    cursor = 0                # frames covered so far
    prev: PlacedClip | None = None
    for pc in placed:
        if pc.frames <= 0:
            continue
        canvas_asset = getattr(pc.clip.canvas, "asset", None)  # an image canvas
        label, _, _ = clip_picture(g, pc, media.get(pc.clip.asset or ""), out, overlay=False,
                                    transparent_bg=transparent,
                                    canvas_info=media.get(canvas_asset) if canvas_asset else None)
        tr = pc.clip.transition_in
        if tr is not None and prev is not None and pc.transition_frames > 0:
            d = pc.transition_frames
            pending = join_with_transition(g, concat_labels(g, pending, out), cursor, label, pc.frames, d, TRANSITIONS[tr.type],
                                 out, transparent)
            cursor = pc.end
        else:
            if pc.start > cursor:
                pending.append(gap(g, pc.start - cursor, out, transparent))
            pending.append(label)
            cursor = pc.end
        prev = pc
    if total > cursor:
        pending.append(gap(g, total - cursor, out, transparent))
    return concat_labels(g, pending, out)


def overlay_tracks(g: Graph, project: Project, timeline: Timeline, media: dict[str, MediaInfo],
                   out: Out, base: str) -> str:
    for track, placed in zip(project.tracks, timeline.tracks):
        if track.kind != "overlay":
            continue
        for pc in sorted(placed, key=lambda p: p.clip_index):  # later in the list is drawn on top
            if pc.frames <= 0:
                continue
            if pc.clip.is_text:
                base = draw_text(g, pc, out, base)
                continue
            label, x, y = clip_picture(g, pc, media.get(pc.clip.asset or ""), out, overlay=True,
                                        transparent_bg=True)
            # a moving clip carries its opacity already (``moving_opacity``)
            placed_label = g.add([label], [f"setpts=N+{pc.start}", None if pc.clip.has_motion else opacity_filters(g, pc, out)],
                                 "ov")
            if pc.clip.blend != "normal":
                base = blend_overlay(g, base, placed_label, pc, x, y, out, timeline.frames)
                continue
            base = g.add([base, placed_label], [f"overlay=x={x}:y={y}:eof_action=pass:repeatlast=0",
                                                pinned_format(out.pix_fmt)], "comp")
    return base
