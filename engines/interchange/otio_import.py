"""An OpenTimelineIO timeline (read by ``otio_read``, whatever its file format) -> project.

OTIO stores time as doubles at a rate; every time is turned into an exact rational (23.976 is
24000/1001, 29.97 drop-frame is 30000/1001) and snapped to the output frame grid. The bottom video
track becomes the ``video`` track, the others ``overlay`` tracks at full size, audio tracks
``audio``; nested stacks and tracks are flattened into their parent track. A timeline written by
``cutlite export`` carries the project's own fields under ``metadata["cutlite"]``; they are used
wherever the OTIO timing still agrees with them, so an export then import gives back the project.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlparse

import pydantic

from engines.errors import ValidationError
from engines.model.project import Clip, clip_length_seconds
from engines.model.timebase import snap_to_frame
from engines.model.transitions import TRANSITIONS

from .document import ProjectBuilder, exact_rate, file_name, time_text
from .otio_read import ADAPTERS, otio_module, read_timeline

__all__ = ["ADAPTERS", "read_timeline", "timeline_to_project", "cutlite_meta", "seconds"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")


@dataclass
class _Item:
    """A clip placed on the flattened timeline, or a transition between two of them."""

    kind: str                 # "clip" | "transition"
    obj: Any
    where: str
    start: Fraction = Fraction(0)     # timeline seconds
    length: Fraction = Fraction(0)
    head: Fraction = Fraction(0)      # timeline seconds cut from the clip's head by a nested range


def seconds(rt: Any) -> Fraction:
    """An OTIO RationalTime as exact seconds (frame counts are integers or close to one)."""
    v = rt.value
    value = Fraction(int(v)) if v.is_integer() else Fraction(v).limit_denominator(1_000_000)
    return value / exact_rate(rt.rate)


def timeline_fps(tl: Any) -> Fraction:
    """The timeline's own rate, else its first clip's, else 24."""
    if tl.global_start_time is not None and tl.global_start_time.rate > 1:
        return exact_rate(tl.global_start_time.rate)
    for clip in tl.find_clips():
        with contextlib.suppress(Exception):
            rate = clip.trimmed_range().duration.rate
            if rate > 1:
                return exact_rate(rate)
    return Fraction(24)


def timeline_to_project(tl: Any, *, project_id: str, tenant: str | None, env: str | None,
                        source: str) -> tuple[dict[str, Any], list[str]]:
    return _Converter(tl, source).convert(project_id, tenant, env)


class _Converter:
    def __init__(self, tl: Any, source: str) -> None:
        self.otio = otio_module()
        self.tl = tl
        self.source = source
        self.meta = cutlite_meta(tl)
        settings = self.meta.get("settings")
        fps = exact_rate(Fraction(settings["fps"])) if isinstance(settings, dict) and "fps" in settings \
            else timeline_fps(tl)
        if not 0 < fps <= 240:
            fps = Fraction(24)
        self.b = ProjectBuilder(fps)
        self.markers: list[dict[str, Any]] = []

    def convert(self, project_id: str, tenant: str | None, env: str | None) -> tuple[dict[str, Any], list[str]]:
        b = self.b
        tracks = list(self.tl.tracks)
        has_audio = any(t.kind == self.otio.schema.TrackKind.Audio and len(t) for t in tracks)
        merged: dict[str, dict[str, Any]] = {}
        video_seen = False
        for ti, track in enumerate(tracks):
            where = f"tracks[{ti}]"
            tmeta = cutlite_meta(track)
            if track.kind == self.otio.schema.TrackKind.Audio:
                kind = "audio"
            elif track.kind == self.otio.schema.TrackKind.Video:
                kind = tmeta.get("kind") or ("overlay" if video_seen else "video")
                video_seen = True
            else:
                b.warn(where, f"track kind \"{track.kind}\" not supported; skipped")
                continue
            if not track.enabled:
                b.warn(where, "disabled track; skipped")
                continue
            self._markers(where, track.markers, Fraction(0))
            for ei, effect in enumerate(track.effects):
                b.warn(f"{where}.effects[{ei}]", f"track effect \"{effect.effect_name or effect.name}\" not supported")
            clips = self._track(where, track, kind, mute=has_audio and kind != "audio")
            key = tmeta.get("id") or f"{kind}{ti}"
            if key in merged and tmeta.get("id"):
                merged[key]["clips"].extend(clips)  # lanes of one cutlite track
                continue
            wanted = tmeta.get("id") or (track.name if track.name else f"{kind}{ti}")
            entry = {"wanted": wanted, "kind": kind, "clips": clips, "order": tmeta.get("order", ti)}
            merged[key] = entry
        for entry in sorted(merged.values(), key=lambda e: e["order"]):
            clips = sorted(entry["clips"], key=lambda c: c.pop("_order", 0))
            for clip in clips:
                clip.pop("_media_end", None)
            if clips:
                b.add_track(entry["wanted"], entry["kind"], clips)
        self._markers("$", self.tl.tracks.markers, Fraction(0))
        settings = dict(self.meta.get("settings") or {})
        if not settings:
            b.warn("settings", "OpenTimelineIO has no frame size; using 1920x1080")
            settings = {"width": 1920, "height": 1080, "fps": time_text(b.fps)}
        doc: dict[str, Any] = {
            "schema_version": 1, "id": self.meta.get("id") or project_id,
            "tenant": tenant or self.meta.get("tenant") or "local", "env": env or self.meta.get("env") or "dev",
            "settings": settings, "assets": b.assets, "tracks": b.tracks}
        if "assets" in self.meta and isinstance(self.meta["assets"], dict):
            self._restore_assets(doc)
        metadata = self.meta.get("metadata")
        if isinstance(metadata, dict):
            doc["metadata"] = metadata
        elif "id" not in self.meta:
            doc["metadata"] = {"imported_from": {"format": "otio", "file": file_name(self.source),
                                                 "name": str(self.tl.name or "")}}
        if self.markers:
            doc.setdefault("metadata", {})["markers"] = self.markers
        if not any(t["clips"] for t in b.tracks):
            raise ValidationError([f"{file_name(self.source)}: the timeline has no clips cutlite can render: "
                                   f"nothing to import"] + b.warnings, stage="import")
        return doc, b.warnings

    def _restore_assets(self, doc: dict[str, Any]) -> None:
        """Assets exported by cutlite keep their names and references (asset ids included)."""
        stored = self.meta["assets"]
        used = {c.get("asset") for t in doc["tracks"] for c in t["clips"]}
        for name in used - {None}:
            if name in stored and isinstance(stored[name], dict):
                doc["assets"][name] = dict(stored[name])
        doc["assets"] = {k: v for k, v in doc["assets"].items() if k in used}

    # ------------------------------------------------------------ tracks

    def _track(self, where: str, track: Any, kind: str, *, mute: bool) -> list[dict[str, Any]]:
        items = list(self._flatten(where, track, Fraction(0), None))
        clips: list[dict[str, Any]] = []
        last: tuple[_Item, dict[str, Any]] | None = None
        pending: _Item | None = None
        placed: list[tuple[_Item, dict[str, Any]]] = []
        for item in items:
            if item.kind == "transition":
                pending = item
                continue
            clip = self._clip(item, kind, mute=mute)
            if clip is None:
                last, pending = None, None
                continue
            if pending is not None:
                if kind != "video":
                    self.b.warn(pending.where, f"transitions on {kind} tracks not supported; dropped")
                elif last is None:
                    self.b.warn(pending.where, "transition without a clip before it; dropped")
                else:
                    self._join(pending, last[1], clip)
                pending = None
            placed.append((item, clip))
            last = (item, clip)
        if pending is not None:
            self.b.warn(pending.where, "transition without a clip after it; dropped")
        for item, clip in placed:  # after every transition has lengthened its clips
            self._prefer_stored(item, clip)
            clips.append(clip)
        return clips

    def _flatten(self, where: str, composition: Any, offset: Fraction,
                 window: tuple[Fraction, Fraction] | None) -> Iterator[_Item]:
        """Items of a track (and of nested stacks and tracks) placed on the top-level timeline.

        ``window`` is the part of the composition's own time that is visible, starting at ``offset``."""
        otio = self.otio
        for i, child in enumerate(composition):
            path = f"{where}.children[{i}]"
            rng = composition.range_of_child_at_index(i)
            a, length = seconds(rng.start_time), seconds(rng.duration)
            if isinstance(child, otio.schema.Transition):
                if window is None or window[0] <= a < window[1]:
                    yield _Item("transition", child, path)
                continue
            lo, hi = (a, a + length) if window is None else (max(a, window[0]), min(a + length, window[1]))
            if hi <= lo:
                continue
            start = offset + lo - (window[0] if window else 0)
            head = lo - a
            if isinstance(child, otio.schema.Gap):
                continue
            if isinstance(child, otio.schema.Clip):
                yield _Item("clip", child, path, start, hi - lo, head)
            elif isinstance(child, (otio.schema.Stack, otio.schema.Track)):
                for ei, effect in enumerate(child.effects):
                    self.b.warn(f"{path}.effects[{ei}]", f"effect \"{effect.effect_name or effect.name}\" on a "
                                                         f"nested {type(child).__name__.lower()} not supported")
                self._markers(path, child.markers, start - head)
                inner = child.trimmed_range()
                inner_lo = seconds(inner.start_time) + head
                inner_window = (inner_lo, inner_lo + (hi - lo))
                if isinstance(child, otio.schema.Stack):
                    self.b.warn(path, f"nested stack \"{child.name}\" flattened into its track")
                    try:
                        flat = otio.algorithms.flatten_stack(child)
                    except Exception as exc:  # noqa: BLE001 - OTIO refuses some stacks
                        self.b.warn(path, f"nested stack could not be flattened ({exc}); skipped")
                        continue
                    yield from self._flatten(path, flat, start, inner_window)
                else:
                    self.b.warn(path, f"nested track \"{child.name}\" flattened into its parent")
                    yield from self._flatten(path, child, start, inner_window)
            else:
                self.b.warn(path, f"{type(child).__name__} not supported; skipped")

    # ------------------------------------------------------------ clips

    def _clip(self, item: _Item, kind: str, *, mute: bool) -> dict[str, Any] | None:
        b, otio, clip = self.b, self.otio, item.obj
        where = item.where
        if not clip.enabled:
            b.warn(where, f"disabled clip \"{clip.name}\"; skipped")
            return None
        stored = self._stored(clip)
        start = b.snap(item.start)
        end = b.snap(item.start + item.length)
        if end <= start:
            b.warn(where, f"clip \"{clip.name}\" shorter than one frame; skipped")
            return None
        length = end - start
        ref = clip.media_reference
        doc: dict[str, Any] = {"id": b.unique_id(str(stored.get("id") or clip.name), "clip"),
                               "start": time_text(start), "_order": stored.get("order", 0)}
        self._markers(where, clip.markers, None, clip=clip, clip_start=start)
        if isinstance(ref, otio.schema.GeneratorReference):
            if isinstance(stored.get("text"), str) and kind != "audio":
                doc.update(text=stored["text"], duration=time_text(length))
                return doc
            b.warn(where, f"generator \"{ref.generator_kind or ref.name}\" ({clip.name}) not supported; skipped")
            return None
        if kind == "overlay" and stored.get("text") is not None:
            doc.update(text=stored["text"], duration=time_text(length))
            return doc
        speed, freeze, reverse = self._speed(where, clip)
        media, label = self._media(where, clip)
        if media is None:
            return None
        doc["asset"] = b.asset_for(media, label)
        try:
            src = clip.trimmed_range()
        except Exception:  # noqa: BLE001 - no source range and no available range
            b.warn(where, f"clip \"{clip.name}\" has no source range; skipped")
            return None
        source_in = seconds(src.start_time) + (item.head * speed if not freeze else 0)
        available = getattr(ref, "available_range", None)
        if available is not None:
            source_in -= seconds(available.start_time)
            doc["_media_end"] = seconds(available.duration)
        if source_in < 0:
            b.warn(where, f"clip \"{clip.name}\" starts {float(-source_in):.3f} s before its media; starts at 0")
            source_in = Fraction(0)
        if Path(media).suffix.lower() in IMAGE_SUFFIXES:
            doc["duration"] = time_text(length)
        elif freeze:  # the first frame of its source range, held
            doc["freeze_at"] = time_text(source_in)
            doc["duration"] = time_text(length)
        else:
            doc["source_in"] = time_text(source_in)
            doc["source_out"] = time_text(source_in + length * speed)
            if speed != 1:
                doc["speed"] = time_text(speed)
            if reverse:
                doc["reverse"] = True
        if kind == "overlay":
            doc["scale"] = 1.0  # a higher NLE track is full frame, not a corner overlay
        if mute:
            doc["muted"] = True
        return doc

    def _speed(self, where: str, clip: Any) -> tuple[Fraction, bool, bool]:
        """(speed, freeze, reverse) from the clip's time effects."""
        otio, speed, freeze, reverse = self.otio, Fraction(1), False, False
        for ei, effect in enumerate(clip.effects):
            path = f"{where}.effects[{ei}]"
            if isinstance(effect, otio.schema.FreezeFrame):
                freeze = True
            elif isinstance(effect, otio.schema.LinearTimeWarp):
                scalar = Fraction(effect.time_scalar).limit_denominator(10_000)
                if scalar < 0:
                    reverse = not reverse
                    scalar = -scalar
                if scalar == 0:
                    freeze = True
                    continue
                clamped = min(Fraction(16), max(Fraction(1, 10), scalar))
                if clamped != scalar:
                    self.b.warn(path, f"speed {float(scalar):g} clamped to {float(clamped):g} (0.1..16)")
                speed *= clamped
            else:
                self.b.warn(path, f"effect \"{effect.effect_name or effect.name}\" not supported")
        return min(Fraction(16), max(Fraction(1, 10), speed)), freeze, reverse

    def _media(self, where: str, clip: Any) -> tuple[str | None, str | None]:
        otio, ref = self.otio, clip.media_reference
        if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
            url = ref.target_url
            parsed = urlparse(url)
            if parsed.scheme == "file":
                path = unquote(parsed.path)
                if parsed.netloc and parsed.netloc != "localhost":
                    path = f"//{parsed.netloc}{path}"
                if len(path) > 2 and path[0] == "/" and path[2] == ":":
                    path = path[1:]  # file:///C:/x -> C:/x
                return path, None
            if parsed.scheme in ("http", "https", "s3"):
                self.b.warn(where, f"remote media \"{url}\" is not fetched; register it in media_v2")
                return file_name(parsed.path) or url, None
            return unquote(url), None
        if isinstance(ref, otio.schema.ImageSequenceReference):
            self.b.warn(where, f"image sequence \"{ref.target_url_base}{ref.name_prefix}…\" not supported; "
                               f"imported as missing media")
            return f"{ref.name_prefix or clip.name}", clip.name
        # a MissingReference (EDLs without file comments): the clip's name is all there is; the
        # asset stays missing (named in the media warnings) unless a media root has a file so named
        label = str(clip.name or "missing").strip() or "missing"
        return label, label

    def _join(self, tr_item: _Item, prev: dict[str, Any], clip: dict[str, Any]) -> None:
        """An OTIO transition uses ``in_offset`` of the next clip before the cut and ``out_offset`` of
        the previous one after it: in the project both clips run on across the overlap."""
        tr = tr_item.obj
        i, o = self.b.snap(seconds(tr.in_offset)), self.b.snap(seconds(tr.out_offset))
        d = i + o
        if d <= 0:
            return
        if "source_in" in clip:
            speed = Fraction(clip.get("speed", 1))
            head = Fraction(clip["source_in"]) / speed  # timeline seconds of media before the cut
            if head < i:
                self.b.warn(tr_item.where, "not enough media before the next clip for the transition; shortened")
                i = Fraction(int(head * self.b.fps)) / self.b.fps
            clip["source_in"] = time_text(Fraction(clip["source_in"]) - i * speed)
        else:
            clip["duration"] = time_text(Fraction(clip["duration"]) + i)
        clip["start"] = time_text(Fraction(clip["start"]) - i)
        if "source_out" in prev:
            speed = Fraction(prev.get("speed", 1))
            tail = (prev["_media_end"] - Fraction(prev["source_out"])) / speed if "_media_end" in prev else None
            if tail is not None and tail < o:
                self.b.warn(tr_item.where, "not enough media after the previous clip for the transition; shortened")
                o = Fraction(int(max(Fraction(0), tail) * self.b.fps)) / self.b.fps
            prev["source_out"] = time_text(Fraction(prev["source_out"]) + o * speed)
        else:
            prev["duration"] = time_text(Fraction(prev["duration"]) + o)
        d = i + o
        if d <= 0:
            return
        clip["transition_in"] = {"type": self._transition_type(tr_item.where, tr), "duration": time_text(d)}

    def _transition_type(self, where: str, tr: Any) -> str:
        stored = cutlite_meta(tr)
        if stored.get("type") in TRANSITIONS:
            return str(stored["type"])
        if tr.transition_type == self.otio.schema.TransitionTypes.SMPTE_Dissolve:
            return "crossfade"
        name = str(tr.name or "").strip().lower().replace(" ", "_").replace("-", "_")
        if name in TRANSITIONS:
            return name
        for engine in TRANSITIONS:
            if engine.replace("_", "") in name.replace("_", ""):
                return engine
        if "dissolve" in name or "fade" in name or "mix" in name:
            return "crossfade"
        self.b.warn(where, f"transition \"{tr.name or tr.transition_type}\" not supported; rendered as a crossfade")
        return "crossfade"

    # ------------------------------------------------------------ cutlite's own fields

    def _stored(self, obj: Any) -> dict[str, Any]:
        meta = cutlite_meta(obj)
        clip = meta.get("clip")
        return {**(clip if isinstance(clip, dict) else {}), "order": meta.get("order", 0)}

    def _prefer_stored(self, item: _Item, clip: dict[str, Any]) -> None:
        """Use the exported clip as it was when the OTIO timing still says the same (to the frame);
        otherwise keep the OTIO timing and the stored picture and sound fields."""
        meta = cutlite_meta(item.obj)
        if not isinstance(meta.get("clip"), dict):
            return
        stored = dict(meta["clip"])
        order = clip.get("_order", 0)
        if _same_timing(stored, clip, self.b.fps):
            clip.clear()
            clip.update(stored)
        else:
            self.b.warn(item.where, f"clip \"{stored.get('id')}\" was retimed outside cutlite; its OTIO timing is used")
            for key, value in stored.items():
                if key not in ("start", "source_in", "source_out", "duration", "speed", "transition_in", "id"):
                    clip[key] = value
            if "transition_in" in clip and "transition_in" in stored:
                clip["transition_in"]["type"] = stored["transition_in"]["type"]
        clip["_order"] = order

    # ------------------------------------------------------------ markers

    def _markers(self, where: str, markers: Any, offset: Fraction | None, *, clip: Any = None,
                 clip_start: Fraction | None = None) -> None:
        if not len(markers):
            return
        for mi, marker in enumerate(markers):
            rng = marker.marked_range
            at = seconds(rng.start_time)
            if clip is not None and clip_start is not None:
                with contextlib.suppress(Exception):
                    at = clip_start + at - seconds(clip.trimmed_range().start_time)
            elif offset is not None:
                at = offset + at
            entry = {"name": str(marker.name or ""), "at": time_text(max(Fraction(0), at)),
                     "duration": time_text(seconds(rng.duration)), "color": str(marker.color or ""),
                     "where": f"{where}.markers[{mi}]"}
            comment = getattr(marker, "comment", "")
            if comment:
                entry["comment"] = str(comment)
            self.markers.append(entry)


def cutlite_meta(obj: Any) -> dict[str, Any]:
    """``metadata["cutlite"]`` as plain JSON (OTIO hands out its own dict and list types)."""
    metadata = getattr(obj, "metadata", None)
    if metadata is None or "cutlite" not in metadata:
        return {}
    plain = _plain(metadata["cutlite"])
    return plain if isinstance(plain, dict) else {}


def _plain(value: Any) -> Any:
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "AnyVector":
        return [_plain(v) for v in value]
    return value


def _same_timing(stored: dict[str, Any], clip: dict[str, Any], fps: Fraction) -> bool:
    def frames(doc: dict[str, Any], key: str) -> int | None:
        return snap_to_frame(Fraction(doc[key]), fps) if key in doc else None

    def length(doc: dict[str, Any]) -> int:
        if "duration" in doc:
            return snap_to_frame(Fraction(doc["duration"]), fps)
        if isinstance(doc.get("speed"), list):  # a ramp: the model knows its length
            return snap_to_frame(clip_length_seconds(Clip.model_validate(doc)) or Fraction(0), fps)
        return snap_to_frame((Fraction(doc["source_out"]) - Fraction(doc["source_in"])) /
                             Fraction(doc.get("speed", 1)), fps)

    def speed_of(doc: dict[str, Any]) -> Fraction | None:
        """A constant speed; None for a ramp (written out as its average, compared by length)."""
        return None if isinstance(doc.get("speed"), list) else Fraction(doc.get("speed", 1))

    try:
        same_speed = speed_of(stored) is None or speed_of(stored) == speed_of(clip)
        return (frames(stored, "start") == frames(clip, "start") and length(stored) == length(clip)
                and frames(stored, "source_in") == frames(clip, "source_in") and same_speed
                and frames(stored, "freeze_at") == frames(clip, "freeze_at"))
    except (KeyError, ValueError, TypeError, ZeroDivisionError, pydantic.ValidationError):
        return False
