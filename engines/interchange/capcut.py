"""CapCut / JianYing drafts (``draft_content.json``, ``draft_info.json`` or the draft folder) -> project.

A draft keeps time in integer microseconds; every cut is turned into an exact rational on the
output frame grid (``canvas_config`` and ``fps`` give the settings). Segments refer to their main
material by ``material_id`` and to their speed, transition, fade, canvas and animation materials by
``extra_material_refs`` (CapCut) or ``extra_material_ids`` (older JianYing). What a cutlite project
cannot say (effects, stickers, filters, colour keyframes) becomes a warning naming the segment,
never a silent drop. Motion comes along: position, scale, rotation, alpha and volume keyframes with
their curves (``FreeCurveInOut`` handles as cubic Béziers), curve speeds as speed ramps, reverse,
rotation and flip. Newer JianYing versions encrypt the draft: such a
file is refused (no decryption), as is anything that is not a draft.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from engines.documents import read_json, read_json_file
from engines.errors import CutliteError, ValidationError
from engines.model.motion import TimeMap
from engines.model.transitions import CAPCUT_TRANSITIONS, TRANSITIONS

from .capcut_looks import clip_looks, text_animations, text_style
from .document import ProjectBuilder, exact_number, exact_rate, file_name, time_text

DRAFT_FILES = ("draft_content.json", "draft_info.json")
US = 1_000_000

# extra materials that change nothing a render shows (or are read elsewhere)
_HARMLESS = {"speeds", "sound_channel_mappings", "vocal_separations", "beats", "placeholders",
             "placeholder_infos", "loudnesses", "audio_balances", "multi_language_refs", "time_marks"}
IMAGE_TYPES = {"photo", "image"}
# draft-generating tools write media inside the draft as "##_draftpath_placeholder_<uuid>_##/..."
_PLACEHOLDER = re.compile(r"^##_draftpath_placeholder_[0-9A-Fa-f-]*_##")


def read_draft(path: Path) -> tuple[dict[str, Any], Path]:
    """The draft document and the file it came from; refuses folders without a draft, encrypted
    drafts and JSON that is not a draft, naming the file."""
    file = path
    if path.is_dir():
        found = [path / name for name in DRAFT_FILES if (path / name).is_file()]
        if not found:
            raise ValidationError([f"{path}: not a CapCut/JianYing draft folder (no {' or '.join(DRAFT_FILES)})"],
                                  stage="import")
        file = found[0]
    try:
        with file.open("rb") as f:
            head = f.read(64)
    except OSError as exc:
        raise ValidationError([f"{file}: cannot read: {exc.strerror}"], stage="import") from None
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if head and not head.startswith((b"{", b"[")):
        raise ValidationError(
            [f"{file}: an encrypted draft (newer JianYing/CapCut versions encrypt draft_content.json); "
             f"cutlite does not decrypt drafts"], stage="import",
            hint="open the draft in an app version that writes plain JSON, or use a draft made by a "
                 "draft-generating tool")
    try:
        doc = read_json_file(file, stage="import", what=file.name)
    except ValidationError as exc:
        raise ValidationError([f"{file}: {p}" for p in exc.problems], stage="import") from None
    if not looks_like_draft(doc):
        raise ValidationError([f"{file}: not a CapCut/JianYing draft (no \"materials\" and \"tracks\")"],
                              stage="import")
    return doc, file


def looks_like_draft(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("materials"), dict) and isinstance(doc.get("tracks"), list)


def draft_settings(draft: dict[str, Any], b: ProjectBuilder | None = None) -> dict[str, Any]:
    canvas = _obj(draft.get("canvas_config"))
    width, height = canvas.get("width"), canvas.get("height")
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        if b:
            b.warn("canvas_config", "no canvas size; using 1920x1080")
        width, height = 1920, 1080
    even_w, even_h = min(7680, max(16, width - width % 2)), min(4320, max(16, height - height % 2))
    if b and (even_w, even_h) != (width, height):
        b.warn("canvas_config", f"canvas {width}x{height} rendered as {even_w}x{even_h} (even sizes only)")
    return {"width": even_w, "height": even_h, "fps": time_text(draft_fps(draft))}


def draft_fps(draft: dict[str, Any]) -> Fraction:
    fps = draft.get("fps")
    if isinstance(fps, (int, float)) and not isinstance(fps, bool) and 0 < fps <= 240:
        return exact_rate(fps)
    return Fraction(30)


def draft_to_project(draft: dict[str, Any], *, project_id: str, tenant: str, env: str,
                     source: str) -> tuple[dict[str, Any], list[str]]:
    """The project document (asset paths as written in the draft) and the warnings."""
    return _Converter(draft, source).convert(project_id, tenant, env)


class _Converter:
    def __init__(self, draft: dict[str, Any], source: str) -> None:
        self.draft = draft
        self.source = source
        self.b = ProjectBuilder(draft_fps(draft))
        self.materials: dict[str, tuple[str, dict[str, Any]]] = {}
        for kind, items in (draft.get("materials") or {}).items():
            if isinstance(items, list):
                for m in items:
                    if isinstance(m, dict) and isinstance(m.get("id"), str):
                        self.materials[m["id"]] = (kind, m)
        self.settings = draft_settings(draft, self.b)

    def convert(self, project_id: str, tenant: str, env: str) -> tuple[dict[str, Any], list[str]]:
        video, overlays, audio = [], [], []
        for ti, track in enumerate(self.draft.get("tracks") or []):
            where = f"tracks[{ti}]"
            if not isinstance(track, dict):
                self.b.warn(where, "not a track object; skipped")
                continue
            ttype = track.get("type") if isinstance(track.get("type"), str) else None
            segments = [s for s in _list(track.get("segments")) if isinstance(s, dict)]
            if ttype == "video":
                kind = "video" if not video else "overlay"
                clips = self._visual_track(where, segments, overlay=kind == "overlay")
                if kind == "video":
                    video.append((f"video{ti}", kind, clips))
                else:
                    overlays.append((_render_index(segments, ti), f"video{ti}", kind, clips))
            elif ttype == "text":
                clips = self._text_track(where, segments)
                overlays.append((_render_index(segments, ti), f"text{ti}", "overlay", clips))
            elif ttype == "audio":
                audio.append((f"audio{ti}", "audio", self._audio_track(where, segments)))
            else:
                names = sorted({self._material_name(s) for s in segments} - {""})
                what = f" ({', '.join(names[:5])})" if names else ""
                self.b.warn(where, f"{ttype or 'unknown'} track with {len(segments)} segment(s){what} not "
                                   f"supported; skipped")
            if track.get("attribute") == 1 and ttype in ("video", "audio", "text"):
                self.b.warn(where, "the track is hidden or muted in the app; imported as visible and audible")
        # tracks over the main one are stacked as the app draws them: by their segments' render_index
        ordered = video + [o[1:] for o in sorted(overlays, key=lambda o: o[0])] + audio
        for wanted, kind, clips in ordered:
            if clips:
                self.b.add_track(wanted, kind, clips)
        finish_clips(self.b.tracks)
        doc = {"schema_version": 1, "id": project_id, "tenant": tenant, "env": env,
               "settings": self.settings, "assets": self.b.assets, "tracks": self.b.tracks,
               "metadata": {"imported_from": {"format": "capcut", "file": file_name(self.source),
                                              "name": str(self.draft.get("name") or "")}}}
        if not any(t["clips"] for t in self.b.tracks):
            raise ValidationError([f"{file_name(self.source)}: the draft has no video, audio or text segments: "
                                   f"nothing to import"] + self.b.warnings, stage="import")
        return doc, self.b.warnings

    # ------------------------------------------------------------ tracks

    def _visual_track(self, where: str, segments: list[dict[str, Any]], *, overlay: bool) -> list[dict[str, Any]]:
        clips: list[dict[str, Any]] = []
        pending: tuple[str, str, Fraction] | None = None  # transition on the previous segment
        for si, seg in sorted(enumerate(segments), key=lambda s: _start(s[1])):
            path = f"{where}.segments[{si}]"
            clip = self._media_clip(path, seg, picture=True, main=not overlay)
            if clip is None:
                pending = None
                continue
            if overlay:
                clip.setdefault("scale", 1.0)
            if pending and clips and not overlay:
                self._join(pending, clips[-1], clip, path)
            elif pending:
                self.b.warn(pending[0], "transitions are only rendered on the main video track; dropped")
            pending = self._transition_of(path, seg)
            clips.append(clip)
        if pending:
            self.b.warn(pending[0], "transition on the last segment of the track has nothing to join; dropped")
        return clips

    def _audio_track(self, where: str, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
        clips = []
        for si, seg in sorted(enumerate(segments), key=lambda s: _start(s[1])):
            clip = self._media_clip(f"{where}.segments[{si}]", seg, picture=False)
            if clip:
                clips.append(clip)
        return clips

    def _text_track(self, where: str, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
        clips = []
        for si, seg in sorted(enumerate(segments), key=lambda s: _start(s[1])):
            path = f"{where}.segments[{si}]"
            kind, mat = self.materials.get(str(seg.get("material_id")), ("", {}))
            if kind != "texts":
                self.b.warn(path, f"text segment whose material \"{seg.get('material_id')}\" is not a text; skipped")
                continue
            span = self._target(path, seg)
            if span is None:
                continue
            start, length = span
            text, style = _text_of(mat)
            if not text.strip():
                self.b.warn(path, "empty text; skipped")
                continue
            if len(text) > 500:
                self.b.warn(path, f"text of {len(text)} characters cut to 500")
                text = text[:500]
            clip: dict[str, Any] = {"id": self.b.unique_id("t" + "_".join(_indices(path)), "text"), "text": text,
                                    "start": time_text(start), "duration": time_text(length)}
            clip.update(self._placement(path, seg, text_clip=True))
            size = style.get("size", mat.get("font_size"))
            if isinstance(size, (int, float)) and not isinstance(size, bool) and size > 0:
                scale = clip.pop("_scale", 1.0)
                clip["font_size"] = round(min(1000.0, max(4.0, float(size) * scale * self.settings["height"] / 100)), 2)
            else:
                clip.pop("_scale", None)
            color = style.get("color") or mat.get("text_color")
            if isinstance(color, str) and len(color) == 7 and color.startswith("#"):
                clip["color"] = color.upper()
            if mat.get("type") == "subtitle":
                clip["id"] = self.b.unique_id("sub" + "_".join(_indices(path)), "sub")
            self._keyframes(path, seg, clip, length, picture=True, sound=False)
            alpha = _num(mat.get("text_alpha"), 1.0)
            if 0 <= alpha < 1 and not isinstance(clip.get("opacity"), list):
                clip["opacity"] = round(alpha * float(clip.get("opacity", 1.0)), 6)
            if mat.get("font_path") or style.get("font"):
                self.b.warn(f"{path}.font", "the app's font is not carried over; DejaVu Sans is used")
            if style.get("multiple"):
                self.b.warn(f"{path}.styles", "several styles in one text; the first is used")
            text_style(path, mat, style, clip, self.b.warn)
            extras = text_animations(path, self._extra_materials(seg), clip, self.b.warn, length, self.b.snap)
            self._extras(path, extras, allow=())
            clips.append(clip)
        return clips

    # ------------------------------------------------------------ segments

    def _media_clip(self, path: str, seg: dict[str, Any], *, picture: bool, main: bool = False) -> dict[str, Any] | None:
        kind, mat = self.materials.get(str(seg.get("material_id")), ("", {}))
        if kind not in ("videos", "audios"):
            what = f"{kind} material" if kind else f"unknown material \"{seg.get('material_id')}\""
            self.b.warn(path, f"{what} not supported; skipped")
            return None
        span = self._target(path, seg)
        if span is None:
            return None
        start, length = span
        media = _media_path(mat)
        if not media:
            self.b.warn(path, f"material \"{mat.get('material_name') or mat.get('id')}\" has no file path; skipped")
            return None
        asset = self.b.asset_for(media, str(mat.get("material_name") or "") or None)
        clip: dict[str, Any] = {"id": self.b.unique_id("c" + "_".join(_indices(path)), "clip"),
                                "asset": asset, "start": time_text(start)}
        speed = self._speed(path, seg)
        ramp = self._curve_speed(path, seg, length)
        if str(mat.get("type")) in IMAGE_TYPES:
            clip["duration"] = time_text(length)
        else:
            src = seg.get("source_timerange") or {}
            src_start = src.get("start") if isinstance(src, dict) else None
            source_in = self.b.snap(Fraction(src_start, US)) if isinstance(src_start, int) and src_start >= 0 \
                else Fraction(0)
            clip["source_in"] = time_text(source_in)
            if ramp is not None:
                # the source the ramp plays in the segment's time, to the microsecond
                played = TimeMap(tuple((t, v) for t, v in ramp), ()).source(float(length))
                clip["source_out"] = time_text(source_in + Fraction(round(played * US), US))
                clip["speed"] = [[time_text(t), v] for t, v in ramp]
            else:
                clip["source_out"] = time_text(source_in + length * speed)
                if speed != 1:
                    clip["speed"] = time_text(speed)
            clip["_material_seconds"] = _material_seconds(mat)
        if seg.get("reverse"):
            if ramp is not None:
                self.b.warn(path, "reverse with a curve speed not supported; plays forwards")
            elif str(mat.get("type")) in IMAGE_TYPES:
                self.b.warn(path, "reverse of a still picture changes nothing; dropped")
            else:
                clip["reverse"] = True
        volume = seg.get("volume", 1.0)
        if isinstance(volume, (int, float)) and not isinstance(volume, bool) and volume != 1:
            clip["volume"] = min(4.0, max(0.0, float(volume)))
            if not 0 <= volume <= 4:
                self.b.warn(f"{path}.volume", f"{volume} clamped to 0..4")
        if picture:
            clip.update(self._placement(path, seg, text_clip=False))
            clip.pop("_scale", None)
        self._keyframes(path, seg, clip, length, picture=picture)
        self._fades(path, seg, clip, length)
        extras = self._extra_materials(seg)
        if picture:
            extras = clip_looks(path, extras, clip, self.b.warn, video_track=main)
        self._extras(path, extras, allow=("transitions", "audio_fades", "canvases", "material_animations"))
        return clip

    def _target(self, path: str, seg: dict[str, Any]) -> tuple[Fraction, Fraction] | None:
        """(start, length) on the timeline, both on the frame grid; None (with a warning) if unusable."""
        tr = seg.get("target_timerange")
        if not isinstance(tr, dict) or not isinstance(tr.get("start"), int) or not isinstance(tr.get("duration"), int):
            self.b.warn(path, "no target_timerange; skipped")
            return None
        start = self.b.snap(Fraction(max(0, tr["start"]), US))
        end = self.b.snap(Fraction(max(0, tr["start"] + tr["duration"]), US))
        if end <= start:
            self.b.warn(path, "shorter than one frame; skipped")
            return None
        return start, end - start

    def _speed(self, path: str, seg: dict[str, Any]) -> Fraction:
        raw = seg.get("speed", 1.0)
        speed = exact_number(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw > 0 \
            else Fraction(1)
        if not Fraction(1, 10) <= speed <= 16:
            clamped = min(Fraction(16), max(Fraction(1, 10), speed))
            self.b.warn(f"{path}.speed", f"{float(speed):g} clamped to {float(clamped):g} (0.1..16)")
            speed = clamped
        return speed

    def _curve_speed(self, path: str, seg: dict[str, Any], length: Fraction) -> list[tuple[Fraction, float]] | None:
        """A ``speeds`` material in curve mode: ``curve_speed.speed_points`` ``{x, y}``, ``x`` the
        fraction of the segment's time, ``y`` the speed there; a ramp linear between them."""
        for kind, mat in self._extra_materials(seg):
            if kind != "speeds" or mat.get("mode") in (0, None):
                continue
            curve = _obj(mat.get("curve_speed"))
            points = []
            for pt in _list(curve.get("speed_points")):
                x, y = (pt.get("x"), pt.get("y")) if isinstance(pt, dict) else (None, None)
                if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
                    points.append((min(1.0, max(0.0, float(x))), float(y)))
            points.sort()
            if len(points) < 2:
                self.b.warn(f"{path}.speed", "curve speed without points; the segment's average speed is used")
                return None
            if any(not 0.1 <= y <= 16 for _, y in points):
                self.b.warn(f"{path}.speed", "curve speed outside 0.1..16 clamped")
            ramp: list[tuple[Fraction, float]] = []
            for x, y in points:
                t = self.b.snap(length * Fraction(round(x * US), US))
                if ramp and t <= ramp[-1][0]:
                    continue  # two points on one frame: the first wins
                ramp.append((t, round(min(16.0, max(0.1, y)), 6)))
            if ramp[0][0] != 0:
                ramp.insert(0, (Fraction(0), ramp[0][1]))
            return ramp
        return None

    def _placement(self, path: str, seg: dict[str, Any], *, text_clip: bool) -> dict[str, Any]:
        """clip.transform is in half-canvas units from the centre, y up; scale is of the fitted size."""
        c = _obj(seg.get("clip"))
        out: dict[str, Any] = {}
        t = _obj(c.get("transform"))
        x, y = _num(t.get("x"), 0.0), _num(t.get("y"), 0.0)
        if x or y:
            out["x"] = round(min(2.0, max(-1.0, 0.5 + x / 2)), 6)
            out["y"] = round(min(2.0, max(-1.0, 0.5 - y / 2)), 6)
        s = _obj(c.get("scale"))
        sx, sy = _num(s.get("x"), 1.0), _num(s.get("y"), 1.0)
        if abs(sx - sy) > 1e-6:
            self.b.warn(f"{path}.clip.scale", f"non-uniform scale {sx:g}x{sy:g} not supported; using {sx:g}")
        if text_clip:
            out["_scale"] = sx
        elif sx != 1:
            out["scale"] = round(min(4.0, max(0.01, sx)), 6)
        alpha = _num(c.get("alpha"), 1.0)
        if alpha != 1:
            out["opacity"] = round(min(1.0, max(0.0, alpha)), 6)
        rotation = _num(c.get("rotation"), 0.0)
        flip = _obj(c.get("flip"))
        if text_clip:
            if rotation % 360:
                self.b.warn(f"{path}.clip.rotation", f"rotation {rotation:g}° of a text not supported; shown upright")
            if flip.get("horizontal") or flip.get("vertical"):
                self.b.warn(f"{path}.clip.flip", "flip of a text not supported; shown unflipped")
            return out
        if rotation % 360:
            out["rotation"] = round(min(3600.0, max(-3600.0, rotation)), 6)  # clockwise degrees, as the app
        h, v = bool(flip.get("horizontal")), bool(flip.get("vertical"))
        if h or v:
            out["flip"] = "both" if h and v else "horizontal" if h else "vertical"
        return out

    def _keyframes(self, path: str, seg: dict[str, Any], clip: dict[str, Any], length: Fraction, *,
                   picture: bool, sound: bool = True) -> None:
        """``common_keyframes``: position (half-canvas units from the centre, y up), scale, rotation,
        alpha and volume, each key's curve to the next kept (``_ease``)."""
        groups: dict[str, tuple[str, list[tuple[Fraction, float, Any]]]] = {}
        for ki, group in enumerate(_list(seg.get("common_keyframes"))):
            if not isinstance(group, dict):
                continue
            prop = str(group.get("property_type") or "")
            where = f"{path}.common_keyframes[{ki}]"
            raw = []
            for kf in _list(group.get("keyframe_list")):
                values = kf.get("values") if isinstance(kf, dict) else None
                offset = kf.get("time_offset") if isinstance(kf, dict) else None
                if isinstance(offset, int) and values and isinstance(values[0], (int, float)):
                    raw.append((min(length, self.b.snap(Fraction(max(0, offset), US))), float(values[0]), kf))
            raw.sort(key=lambda p: p[0])
            if raw:
                groups[prop] = (where, raw)
        text = "text" in clip
        for prop, (where, raw) in groups.items():
            target = _KEYFRAME_FIELDS.get(prop)
            if prop == "KFTypeScaleY" and ("KFTypeScaleX" in groups or "UNIFORM_SCALE" in groups):
                continue  # uniform: X carries it
            if target is None or (target == "volume" and not sound) or (target != "volume" and not picture) \
                    or (text and target in ("scale", "rotation")):
                self.b.warn(where, f"{prop or 'unknown'} keyframes not supported; the static value is used")
                continue
            convert, lo, hi, overshoot = _KEYFRAME_VALUES[target]
            keys: list[Any] = []
            for i, (t, v, kf) in enumerate(raw):
                if keys and t <= Fraction(keys[-1]["t"]):
                    continue  # two keys on one frame: the first wins
                value = round(min(hi, max(lo, convert(v))), 6)
                ease = _ease(kf, raw[i + 1] if i + 1 < len(raw) else None, v, overshoot)
                keys.append({"t": time_text(t), "value": value, **({"ease": ease} if ease != "linear" else {})})
            clip[target] = [k if "ease" in k else [k["t"], k["value"]] for k in keys]

    def _fades(self, path: str, seg: dict[str, Any], clip: dict[str, Any], length: Fraction) -> None:
        for kind, mat in self._extra_materials(seg):
            if kind != "audio_fades":
                continue
            fade_in = self.b.snap(Fraction(max(0, int(mat.get("fade_in_duration") or 0)), US))
            fade_out = self.b.snap(Fraction(max(0, int(mat.get("fade_out_duration") or 0)), US))
            if not (fade_in or fade_out):
                continue
            level = clip.get("volume", 1.0)
            if isinstance(level, list):
                self.b.warn(f"{path}.audio_fade", "fades on top of volume keyframes not supported; fades dropped")
                continue
            if fade_in + fade_out > length:
                self.b.warn(f"{path}.audio_fade", "fades longer than the segment; shortened to meet in the middle")
                fade_in = fade_out = self.b.snap(length / 2)
            points = [(Fraction(0), 0.0 if fade_in else level), (fade_in, level), (length - fade_out, level),
                      (length, 0.0 if fade_out else level)]
            clip["volume"] = [[time_text(t), v] for t, v in points]

    def _transition_of(self, path: str, seg: dict[str, Any]) -> tuple[str, str, Fraction] | None:
        for kind, mat in self._extra_materials(seg):
            if kind != "transitions":
                continue
            name = str(mat.get("name") or mat.get("effect_id") or "transition")
            where = f"{path}.transition"
            engine = CAPCUT_TRANSITIONS.get(name.strip().lower()) or (name if name in TRANSITIONS else None)
            if engine is None:
                self.b.warn(where, f"transition \"{name}\" not supported; rendered as a crossfade")
                engine = "crossfade"
            duration = self.b.snap(Fraction(max(0, int(mat.get("duration") or 0)), US))
            if duration <= 0:
                self.b.warn(where, f"transition \"{name}\" shorter than one frame; dropped")
                return None
            return where, engine, duration
        return None

    def _join(self, pending: tuple[str, str, Fraction], prev: dict[str, Any], clip: dict[str, Any], path: str) -> None:
        """Put the transition between ``prev`` and ``clip`` keeping every segment's start: the earlier
        clip plays on under it when its media reaches (photos always do), else the later clip starts
        earlier when its media has the head, else the transition is dropped with a warning."""
        where, engine, d = pending
        prev_end = Fraction(prev["start"]) + _length(prev)
        if Fraction(clip["start"]) != prev_end:
            self.b.warn(where, "the segments it joins do not meet; transition dropped")
            return
        if min(_length(prev), _length(clip)) < d:
            self.b.warn(where, "longer than one of the segments it joins; transition dropped")
            return
        if isinstance(prev.get("speed"), list) or isinstance(clip.get("speed"), list):
            self.b.warn(where, "a transition next to a curve speed not supported; dropped")
            return
        if "duration" in prev:
            prev["duration"] = time_text(Fraction(prev["duration"]) + d)
        elif _tail_room(prev) >= d * Fraction(prev.get("speed", 1)):
            prev["source_out"] = time_text(Fraction(prev["source_out"]) + d * Fraction(prev.get("speed", 1)))
        elif "duration" in clip:
            clip["start"] = time_text(Fraction(clip["start"]) - d)
            clip["duration"] = time_text(Fraction(clip["duration"]) + d)
            _shift_points(clip, d)
        elif Fraction(clip["source_in"]) >= d * Fraction(clip.get("speed", 1)):
            clip["start"] = time_text(Fraction(clip["start"]) - d)
            clip["source_in"] = time_text(Fraction(clip["source_in"]) - d * Fraction(clip.get("speed", 1)))
            _shift_points(clip, d)
        else:
            self.b.warn(where, "neither segment has media beyond the cut for the transition; dropped")
            return
        clip["transition_in"] = {"type": engine, "duration": time_text(d)}

    # ------------------------------------------------------------ materials

    def _extra_materials(self, seg: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        ids = _list(seg.get("extra_material_refs")) + _list(seg.get("extra_material_ids"))
        return [self.materials[i] for i in dict.fromkeys(i for i in ids if isinstance(i, str)) if i in self.materials]

    def _extras(self, path: str, extras: list[tuple[str, dict[str, Any]]], *, allow: tuple[str, ...]) -> None:
        """Every extra material that changes the picture or sound and is not carried over: a warning."""
        for kind, mat in extras:
            if kind in _HARMLESS or kind in allow and kind not in ("canvases", "material_animations"):
                continue
            name = str(mat.get("name") or mat.get("effect_name") or mat.get("type") or kind)
            if kind == "canvases":
                if mat.get("type") in (None, "", "none") or (mat.get("type") == "canvas_color"
                                                              and str(mat.get("color")).lower() in ("", "#000000")):
                    continue
                self.b.warn(path, f"canvas \"{mat.get('type')}\" (background fill) not supported; "
                                  f"the project background is used")
            elif kind == "material_animations":
                for anim in _list(mat.get("animations")):
                    label = anim.get("name") or anim.get("type") if isinstance(anim, dict) else anim
                    self.b.warn(path, f"animation \"{label}\" not supported")
            elif kind == "transitions":
                self.b.warn(path, f"transition \"{name}\" outside a video track not supported")
            elif kind == "audio_fades":
                continue
            else:
                what = {"effects": "effect", "video_effects": "effect", "filters": "filter",
                        "audio_effects": "audio effect", "masks": "mask", "common_mask": "mask",
                        "chromas": "chroma key", "stickers": "sticker", "text_templates": "text template",
                        "flowers": "text effect", "effect": "effect"}.get(kind, kind.rstrip("s"))
                self.b.warn(path, f"{what} \"{name}\" not supported")

    def _material_name(self, seg: dict[str, Any]) -> str:
        kind, mat = self.materials.get(str(seg.get("material_id")), ("", {}))
        return str(mat.get("name") or mat.get("effect_name") or "") if mat else ""


# ---------------------------------------------------------------- helpers

# keyframe property -> project field
_KEYFRAME_FIELDS = {"KFTypePositionX": "x", "KFTypePositionY": "y", "KFTypeScaleX": "scale", "UNIFORM_SCALE": "scale",
                    "KFTypeScaleY": "scale", "KFTypeRotation": "rotation", "KFTypeAlpha": "opacity",
                    "KFTypeVolume": "volume"}
# field -> (the app's value to the project's, lowest, highest, may a curve overshoot)
_KEYFRAME_VALUES: dict[str, tuple[Any, float, float, bool]] = {
    "x": (lambda v: 0.5 + v / 2, -1.0, 2.0, True), "y": (lambda v: 0.5 - v / 2, -1.0, 2.0, True),
    "scale": (lambda v: v, 0.01, 4.0, True), "rotation": (lambda v: v, -3600.0, 3600.0, True),
    "opacity": (lambda v: v, 0.0, 1.0, False), "volume": (lambda v: v, 0.0, 4.0, False)}


def _ease(kf: dict[str, Any], nxt: tuple[Fraction, float, Any] | None, value: float, overshoot: bool) -> Any:
    """A key's curve to the next: ``Line`` is linear; a curve (``FreeCurveInOut`` and the app's
    presets) is the cubic Bézier of this key's ``right_control`` and the next key's
    ``left_control`` handles (microseconds and value units from their keys)."""
    if nxt is None or str(kf.get("curveType") or "Line") == "Line":
        return "linear"
    t0 = kf.get("time_offset")
    _, v1, nkf = nxt
    span = (nkf.get("time_offset") or 0) - (t0 or 0)
    right, left = _obj(kf.get("right_control")), _obj(nkf.get("left_control"))
    dv = v1 - value
    if span <= 0:
        return "linear"
    x1 = min(1.0, max(0.0, _num(right.get("x"), 0.0) / span))
    x2 = min(1.0, max(0.0, 1 + _num(left.get("x"), 0.0) / span))
    y1 = _num(right.get("y"), 0.0) / dv if dv else x1
    y2 = 1 + _num(left.get("y"), 0.0) / dv if dv else x2
    lo, hi = (-10.0, 10.0) if overshoot else (0.0, 1.0)
    bezier = [round(x1, 6), round(min(hi, max(lo, y1)), 6), round(x2, 6), round(min(hi, max(lo, y2)), 6)]
    if bezier == [0.0, 0.0, 1.0, 1.0] or (x1 == y1 and x2 == y2):
        return "linear"  # handles on the line
    return bezier


def _text_of(mat: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(text, first style): ``content`` is plain text (JianYing) or JSON with ``text`` and ``styles``."""
    content = mat.get("content")
    if not isinstance(content, str):
        return "", {}
    if content.lstrip().startswith("{"):
        try:
            doc = read_json(content, stage="import")
        except CutliteError:  # not JSON after all (or refused by the loader): the text as written
            return content, {}
        if isinstance(doc, dict) and isinstance(doc.get("text"), str):
            styles = [s for s in _list(doc.get("styles")) if isinstance(s, dict)]
            return doc["text"], _style(styles)
    return content, {}


def _style(styles: list[dict[str, Any]]) -> dict[str, Any]:
    if not styles:
        return {}
    first = styles[0]
    out: dict[str, Any] = {"multiple": len(styles) > 1}
    if isinstance(first.get("size"), (int, float)):
        out["size"] = first["size"]
    solid = ((first.get("fill") or {}).get("content") or {}).get("solid") or {}
    rgb = solid.get("color")
    if isinstance(rgb, list) and len(rgb) >= 3 and all(isinstance(v, (int, float)) for v in rgb[:3]):
        out["color"] = "#" + "".join(f"{round(min(1.0, max(0.0, v)) * 255):02X}" for v in rgb[:3])
    font = first.get("font") or {}
    if isinstance(font, dict) and font.get("path"):
        out["font"] = font["path"]
    strokes = [x for x in _list(first.get("strokes")) if isinstance(x, dict)]
    if strokes:
        out["stroke"] = strokes[0]
    shadows = [x for x in _list(first.get("shadows")) if isinstance(x, dict)]
    if shadows:
        out["shadow"] = shadows[0]
    for flag in ("bold", "italic"):
        if first.get(flag) is True:
            out[flag] = True
    return out


def _render_index(segments: list[dict[str, Any]], track_index: int) -> tuple[float, int]:
    """Where the app draws a track: its segments' lowest ``render_index``, else its place in the list."""
    found = [s["render_index"] for s in segments if isinstance(s.get("render_index"), (int, float))]
    return (min(found) if found else float("inf"), track_index)


def _media_path(mat: dict[str, Any]) -> str:
    """The material's file; a draft-folder placeholder becomes a path relative to the draft."""
    path = str(mat.get("path") or "")
    if _PLACEHOLDER.match(path):
        return _PLACEHOLDER.sub("", path).lstrip("/\\")
    return path


def _obj(v: Any) -> dict[str, Any]:
    """A draft's object field, or {} when the draft has something else there."""
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _start(seg: dict[str, Any]) -> int:
    tr = seg.get("target_timerange")
    return tr.get("start", 0) if isinstance(tr, dict) and isinstance(tr.get("start"), int) else 0


def _num(v: Any, default: float) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default


def _indices(path: str) -> list[str]:
    """``tracks[2].segments[5]`` -> ["2", "5"]"""
    return [part.split("]")[0] for part in path.split("[")[1:]]


def _material_seconds(mat: dict[str, Any]) -> Fraction | None:
    d = mat.get("duration")
    return Fraction(d, US) if isinstance(d, int) and d > 0 else None


def _length(clip: dict[str, Any]) -> Fraction:
    if "duration" in clip:
        return Fraction(clip["duration"])
    if isinstance(clip.get("speed"), list):  # a ramp lasts its segment: its last key is the end at most
        ramp = TimeMap(tuple((Fraction(t), v) for t, v in clip["speed"]), ())
        return ramp.length(Fraction(clip["source_out"]) - Fraction(clip["source_in"]))
    return (Fraction(clip["source_out"]) - Fraction(clip["source_in"])) / Fraction(clip.get("speed", 1))


def _tail_room(clip: dict[str, Any]) -> Fraction:
    total = clip.get("_material_seconds")
    return total - Fraction(clip["source_out"]) if total is not None else Fraction(0)


def _shift_points(clip: dict[str, Any], d: Fraction) -> None:
    """Keyframes are relative to the clip's start: moving the start earlier moves them later."""
    for key in ("volume", "opacity", "x", "y", "scale", "rotation"):
        if isinstance(clip.get(key), list):
            clip[key] = [{**k, "t": time_text(Fraction(k["t"]) + d)} if isinstance(k, dict) else
                         [time_text(Fraction(k[0]) + d), k[1]] for k in clip[key]]


def finish_clips(tracks: list[dict[str, Any]]) -> None:
    """Drop the converter's private notes from the clips."""
    for track in tracks:
        for clip in track["clips"]:
            for key in [k for k in clip if k.startswith("_")]:
                del clip[key]
