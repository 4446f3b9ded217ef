"""A project as OpenTimelineIO, for NLEs and for the way back in.

What an NLE sees stands on its own: tracks with clips (source ranges at the project's rate), gaps,
transitions by name (crossfade and dissolve as ``SMPTE_Dissolve``), speed as ``LinearTimeWarp``
(negative when reversed; a speed ramp as its average, the ramp itself in the metadata), a freeze
frame as ``FreezeFrame`` on a clip whose source range starts at the frozen second,
images as clips of their duration and text as clips with a ``GeneratorReference``
(``cutlite.text``). Overlay and audio tracks may overlap in a project but not in OTIO: such a
track is written as several OTIO tracks ("lanes") that carry the same track id. Everything OTIO
cannot say (keyframes and their eases, fit, position, effects, masks, blend modes, canvases, text style
and animations, tenant, env, settings, asset ids) is kept under ``metadata["cutlite"]``: each clip's own document, the track's id and
kind, the project's settings and assets. ``otio_import`` uses it, so export then import gives
back the same project and the same plan hash.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from engines.errors import ValidationError
from engines.model.project import Clip, Project, clip_length_seconds, load_project
from engines.model.timebase import snap_to_frame
from engines.model.transitions import TRANSITIONS

EXPORT_VERSION = 1


def _otio() -> Any:
    import opentimelineio as otio
    return otio


def project_to_timeline(project: Project, base_dir: Path | None = None) -> Any:
    otio = _otio()
    fps = project.settings.fps
    rate = float(fps)
    doc = project.canonical()

    def rt(seconds: Fraction) -> Any:
        frames = seconds * fps
        return otio.opentime.RationalTime(float(frames), rate)

    def frames_rt(frames: int) -> Any:
        return otio.opentime.RationalTime(float(frames), rate)

    tl = otio.schema.Timeline(name=project.id)
    tl.global_start_time = otio.opentime.RationalTime(0, rate)
    meta: dict[str, Any] = {"version": EXPORT_VERSION, "id": project.id, "tenant": project.tenant,
                            "env": project.env, "settings": doc["settings"], "assets": doc.get("assets", {})}
    if project.metadata:
        meta["metadata"] = doc.get("metadata", {})
    tl.metadata["cutlite"] = meta
    for ti, track in enumerate(project.tracks):
        kind = otio.schema.TrackKind.Audio if track.kind == "audio" else otio.schema.TrackKind.Video
        for lane_no, lane in enumerate(_lanes(track.kind, list(enumerate(track.clips)), fps)):
            name = track.id if lane_no == 0 else f"{track.id} ({lane_no + 1})"
            out = otio.schema.Track(name=name, kind=kind)
            out.metadata["cutlite"] = {"id": track.id, "kind": track.kind, "order": ti, "lane": lane_no}
            cursor = 0
            for pos, (ci, clip) in enumerate(lane):
                start, length = _frames(clip, fps)
                trim_tail = 0
                nxt = lane[pos + 1][1] if pos + 1 < len(lane) else None
                if nxt is not None and nxt.transition_in is not None:
                    trim_tail = snap_to_frame(nxt.transition_in.duration, fps)
                if clip.transition_in is not None and pos > 0:
                    d = snap_to_frame(clip.transition_in.duration, fps)
                    out.append(_transition(otio, clip.transition_in.type, frames_rt(0), frames_rt(d)))
                elif start > cursor:
                    out.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(frames_rt(0),
                                                                                      frames_rt(start - cursor))))
                item = _clip(otio, project, clip, length - trim_tail, rt, frames_rt, base_dir)
                item.metadata["cutlite"] = {"clip": doc["tracks"][ti]["clips"][ci], "order": ci}
                out.append(item)
                cursor = start + length - trim_tail
            tl.tracks.append(out)
    return tl


def _frames(clip: Clip, fps: Fraction) -> tuple[int, int]:
    length = clip_length_seconds(clip)
    assert length is not None
    return snap_to_frame(clip.start, fps), snap_to_frame(length, fps)


def _lanes(kind: str, clips: list[tuple[int, Clip]], fps: Fraction) -> list[list[tuple[int, Clip]]]:
    """Clips in non-overlapping lanes, earliest first; a video track is one lane (its overlaps are
    transitions)."""
    ordered = sorted(clips, key=lambda ic: (_frames(ic[1], fps)[0], ic[0]))
    if kind == "video":
        return [ordered] if ordered else []
    lanes: list[list[tuple[int, Clip]]] = []
    ends: list[int] = []
    for ci, clip in ordered:
        start, length = _frames(clip, fps)
        for n, end in enumerate(ends):
            if end <= start:
                lanes[n].append((ci, clip))
                ends[n] = start + length
                break
        else:
            lanes.append([(ci, clip)])
            ends.append(start + length)
    return lanes


def _transition(otio: Any, kind: str, in_offset: Any, out_offset: Any) -> Any:
    tr = otio.schema.Transition(
        name=kind, in_offset=in_offset, out_offset=out_offset,
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve if TRANSITIONS[kind].otio_dissolve
        else otio.schema.TransitionTypes.Custom)
    tr.metadata["cutlite"] = {"type": kind}
    return tr


def _clip(otio: Any, project: Project, clip: Clip, frames: int, rt: Any, frames_rt: Any,
          base_dir: Path | None) -> Any:
    duration = frames_rt(frames)
    if clip.is_text:
        ref = otio.schema.GeneratorReference(
            name="text", generator_kind="cutlite.text",
            parameters={"text": clip.text, "font_size": clip.font_size, "color": clip.color},
            available_range=otio.opentime.TimeRange(frames_rt(0), duration))
        return otio.schema.Clip(name=clip.id, media_reference=ref,
                                source_range=otio.opentime.TimeRange(frames_rt(0), duration))
    ref = _media_reference(otio, project, clip.asset or "", base_dir)
    first = clip.source_in if clip.source_in is not None else clip.freeze_at
    start = rt(first) if first is not None else frames_rt(0)
    item = otio.schema.Clip(name=clip.id, media_reference=ref,
                            source_range=otio.opentime.TimeRange(start, duration))
    if clip.freeze_at is not None:
        item.effects.append(otio.schema.FreezeFrame(name="freeze"))
    elif clip.ramp is not None:  # an NLE sees the average; the ramp travels in the metadata
        item.effects.append(otio.schema.LinearTimeWarp(name="speed_ramp", time_scalar=float(clip.rate)))
    elif clip.rate != 1 or clip.reverse:
        item.effects.append(otio.schema.LinearTimeWarp(name="speed", time_scalar=float(clip.rate) * (-1 if clip.reverse else 1)))
    return item


def _media_reference(otio: Any, project: Project, asset: str, base_dir: Path | None) -> Any:
    ref = project.assets[asset]
    if ref.asset_id is not None:
        # a media_v2 asset: no file an NLE could open; the id is kept for the way back
        return otio.schema.MissingReference(name=asset, metadata={"cutlite": {"asset_id": ref.asset_id}})
    path = Path(ref.path or "")
    if not path.is_absolute() and base_dir is not None:
        path = (base_dir / path).resolve()
    url = path.as_uri() if path.is_absolute() else str(ref.path)
    return otio.schema.ExternalReference(target_url=url)


def export_otio(project_file: str | Path, output: str | Path) -> Path:
    """Write ``project_file`` as an ``.otio`` file (a temporary file renamed into place)."""
    otio = _otio()
    src = Path(project_file)
    project = load_project(src)
    out = Path(output)
    if out.suffix.lower() != ".otio":
        raise ValidationError([f"-o: {out.name}: the OTIO export writes a .otio file"], stage="export")
    tl = project_to_timeline(project, src.resolve().parent)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        otio.adapters.write_to_file(tl, str(tmp), adapter_name="otio_json")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
