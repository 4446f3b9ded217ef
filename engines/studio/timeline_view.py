"""The timeline as the studio page draws it: clips at their placed times, transitions, cues.

Pure: the project placed on its own frame grid (``place_project``), each boundary given as an
exact rational string and, for drawing only, as float seconds. Every keyframe of a clip's animated
fields (position, scale, rotation, opacity, volume, speed, effects, mask) is listed at its timeline
time, so the page can put a marker on it; its looks (effects, mask, blend, canvas, text style and
animations) are listed in drawing order, so the page can show them on the clip.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from engines.model.fields import Keyframes
from engines.model.project import Clip, Project
from engines.model.timebase import fraction_text, frames_to_seconds
from engines.model.timeline import place_project

SCHEMA = "cutlite.studio.timeline/1"


def timeline_view(project: Project) -> dict[str, Any]:
    timeline = place_project(project)
    fps = timeline.fps

    def at(frame: int) -> dict[str, Any]:
        t = frames_to_seconds(frame, fps)
        return {"exact": fraction_text(t), "seconds": float(t)}

    tracks = []
    for ti, (track, placed) in enumerate(zip(project.tracks, timeline.tracks)):
        clips = []
        for pc in placed:
            clip = pc.clip
            start, end = at(pc.start), at(pc.end)
            item: dict[str, Any] = {"id": clip.id, "asset": clip.asset, "text": clip.text,
                                    "start": start["exact"], "end": end["exact"],
                                    "start_seconds": start["seconds"], "end_seconds": end["seconds"],
                                    "source_in_seconds": float(clip.source_in or Fraction(0)),
                                    "speed": float(clip.rate), "transition": None}
            item["keyframes"] = _keyframes(clip, frames_to_seconds(pc.start, fps))
            item["looks"] = clip_looks(clip)
            if clip.transition_in is not None and pc.transition_frames:
                item["transition"] = {"type": clip.transition_in.type, "start_seconds": start["seconds"],
                                      "end_seconds": at(pc.start + pc.transition_frames)["seconds"]}
            clips.append(item)
        tracks.append({"id": track.id, "kind": track.kind, "index": ti, "clips": clips})
    total = at(timeline.frames)
    return {"schema": SCHEMA, "id": project.id, "tenant": project.tenant, "env": project.env,
            "fps": fraction_text(fps), "width": project.settings.width, "height": project.settings.height,
            "duration": total["exact"], "duration_seconds": total["seconds"], "tracks": tracks}


def _keyframes(clip: Clip, start: Fraction) -> list[dict[str, Any]]:
    """The keys of every animated field, by time: field, timeline seconds, value, ease."""
    fields: list[tuple[str, Keyframes]] = [
        (name, kf) for name in ("x", "y", "scale", "rotation", "opacity", "volume", "speed")
        if isinstance(kf := getattr(clip, name), Keyframes) and (kf.constant is None or name == "speed")]
    for fi, f in enumerate(clip.filters):
        fields += [(f"filters[{fi}].{name}", kf) for name, kf in f.keyframed().items() if kf.constant is None]
    if clip.mask is not None:
        fields += [(f"mask.{name}", kf) for name, kf in clip.mask.keyframed().items() if kf.constant is None]
    keys = []
    for name, kf in fields:
        for i, (t, v) in enumerate(kf.points):
            ease = kf.ease(i)
            keys.append({"field": name, "exact": fraction_text(start + t), "seconds": float(start + t), "value": v,
                         "ease": list(ease) if isinstance(ease, tuple) else ease})
    return sorted(keys, key=lambda k: (k["seconds"], k["field"]))


def clip_looks(clip: Clip) -> list[dict[str, Any]]:
    """Each look of a clip, in the order it is drawn: its effects, mask, blend mode, canvas, and a
    text's style and animations; ``label`` is what the page shows, ``fields`` the values set."""
    looks: list[dict[str, Any]] = []

    def add(kind: str, label: str, fields: dict[str, Any]) -> None:
        looks.append({"kind": kind, "label": label, "fields": fields})

    for f in clip.filters:
        doc = f.model_dump()
        add("effect", str(doc.pop("type")), {k: v for k, v in doc.items() if k in f.model_fields_set})
    if clip.mask is not None:
        add("mask", f"mask: {clip.mask.shape}" + (" (inverted)" if clip.mask.invert else ""),
            clip.mask.model_dump(exclude_defaults=True))
    if clip.blend != "normal":
        add("blend", f"blend: {clip.blend}", {"blend": clip.blend})
    if clip.canvas is not None:
        add("canvas", f"canvas: {clip.canvas.type}", clip.canvas.model_dump())
    if clip.is_text:
        for name in ("stroke", "shadow", "box"):
            value = getattr(clip, name)
            if value is not None:
                add("text", name, value.model_dump())
        for name in ("animation_in", "animation_out"):
            value = getattr(clip, name)
            if value is not None:
                add("animation", f"{name.removeprefix('animation_')}: {value.type}", value.model_dump())
    return looks
