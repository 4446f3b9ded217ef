"""The project document (schema_version 1) as frozen, typed models.

``load_project`` validates completely before anything runs: pydantic reports every field
error at once, then ``_check_semantics`` adds the cross-field rules (references, clip kinds,
overlaps, transitions). Every problem names its JSON path, e.g.
``tracks[1].clips[0].speed: must be between 0.1 and 16``.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BeforeValidator, model_validator

from engines.documents import read_json, read_json_file
from engines.errors import ValidationError

from .cube import is_cube
from .effects import EFFECTS, TAG, Filter
from .fields import (
    Color,
    Fps,
    Keyframes,
    Opacity,
    Position,
    Rotation,
    Scale,
    SpeedField,
    Strict,
    Time,
    Volume,
    constant,
    ranged,
    regex,
)
from .looks import CANVAS_TAG, Blend, BlurCanvas, Canvas, ColorCanvas, ImageCanvas, Mask
from .motion import TimeMap
from .scope import TENANT_RE
from .template import apply_template, is_template
from .text_style import Box, Shadow, Stroke, TextAnimation
from .timebase import fraction_text, parse_fps, snap_to_frame
from .transitions import TRANSITIONS

SCHEMA_VERSION = 1

PROJECT_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

def _plain_json(v: Any) -> Any:
    """Metadata as the JSON it was (the loader reads numbers as Decimal for exact times)."""
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, dict):
        return {k: _plain_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain_json(x) for x in v]
    return v



class LoudnessTarget(Strict):
    """An explicit loudness target: integrated LUFS and the true-peak ceiling in dBTP."""
    integrated_lufs: Annotated[float, ranged(-70, -5)]
    true_peak_dbtp: Annotated[float, ranged(-20, 0)] = -1.0


class Settings(Strict):
    width: int
    height: int
    fps: Fps
    sample_rate: int = 48000
    # "transparent": the canvas has alpha; kept by the formats that carry it (ProRes 4444, VP9 WebM)
    background: Color | Literal["transparent"] = "#000000"
    # "profile": the delivery profile's own target; "off": the mix as it is
    loudness: Literal["profile", "off"] | LoudnessTarget = "profile"

    @model_validator(mode="after")
    def _sizes(self) -> "Settings":
        problems = []
        if not (16 <= self.width <= 7680 and self.width % 2 == 0):
            problems.append("width: must be an even integer between 16 and 7680")
        if not (16 <= self.height <= 4320 and self.height % 2 == 0):
            problems.append("height: must be an even integer between 16 and 4320")
        if not 8000 <= self.sample_rate <= 192000:
            problems.append("sample_rate: must be between 8000 and 192000")
        if problems:
            raise ValueError(" | ".join(problems))
        return self


class AssetRef(Strict):
    path: str | None = None
    asset_id: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "AssetRef":
        if (self.path is None) == (self.asset_id is None):
            raise ValueError("give exactly one of \"path\" or \"asset_id\"")
        if self.path is not None and (not self.path or "\x00" in self.path):
            raise ValueError("path: must be a non-empty file path")
        return self


class Crop(Strict):
    """Fractions of the source picture cut away before the fit."""
    left: Annotated[float, ranged(0, 0.95)] = 0.0
    top: Annotated[float, ranged(0, 0.95)] = 0.0
    right: Annotated[float, ranged(0, 0.95)] = 0.0
    bottom: Annotated[float, ranged(0, 0.95)] = 0.0

    @model_validator(mode="after")
    def _keeps_a_picture(self) -> "Crop":
        problems = []
        if self.left + self.right >= 1:
            problems.append("right: left + right must be less than 1")
        if self.top + self.bottom >= 1:
            problems.append("bottom: top + bottom must be less than 1")
        if problems:
            raise ValueError(" | ".join(problems))
        return self


class Transition(Strict):
    type: str
    duration: Time


class Word(Strict):
    """A word of a caption cue; times in seconds from the cue's start."""
    text: str
    start: Time
    end: Time


class Clip(Strict):
    id: Annotated[str, regex(NAME_RE, "clip id")]
    # required except on captions tracks, where a subtitle file's cues keep their own times (checked below)
    start: Time = Fraction(0)
    # media clips
    asset: str | None = None
    source_in: Time | None = None
    source_out: Time | None = None
    speed: SpeedField = Fraction(1)
    volume: Volume = constant(1.0)
    muted: bool = False
    reverse: bool = False
    freeze_at: Time | None = None  # a freeze frame: this source second shown for ``duration``
    # image and text clips
    duration: Time | None = None
    # picture
    fit: Literal["contain", "cover", "stretch"] = "contain"
    x: Position = constant(0.5)
    y: Position = constant(0.5)
    scale: Scale | None = None
    rotation: Rotation = constant(0.0)
    flip: Literal["none", "horizontal", "vertical", "both"] = "none"
    crop: Crop | None = None
    opacity: Opacity = constant(1.0)
    filters: tuple[Filter, ...] = ()
    mask: Mask | None = None
    blend: Blend = "normal"
    canvas: Canvas | None = None
    transition_in: Transition | None = None
    # text
    text: str | None = None
    font_size: Annotated[float, ranged(4, 1000)] = 64
    color: Color = "#FFFFFF"
    font: str | None = None
    stroke: Stroke | None = None
    shadow: Shadow | None = None
    box: Box | None = None
    align: Literal["left", "center", "right"] = "center"
    max_width: Annotated[float, ranged(0.05, 1)] | None = None  # fraction of the output width; lines wrap
    line_spacing: Annotated[float, ranged(0.5, 4)] = 1.0  # times the font's line height
    bold: bool = False
    italic: bool = False
    animation_in: TextAnimation | None = None
    animation_out: TextAnimation | None = None
    # caption cues
    words: tuple[Word, ...] = ()

    @property
    def is_text(self) -> bool:
        return self.text is not None

    @property
    def ramp(self) -> TimeMap | None:
        """The speed ramp's time map, when ``speed`` is keyframes."""
        if isinstance(self.speed, Keyframes):
            return TimeMap(self.speed.points, self.speed.eases)
        return None

    @property
    def rate(self) -> Fraction:
        """The constant speed; a ramp's average (source range over timeline length)."""
        if isinstance(self.speed, Fraction):
            return self.speed
        length = clip_length_seconds(self)
        if length is None or self.source_in is None or self.source_out is None or length <= 0:
            return Fraction(1)
        return (self.source_out - self.source_in) / length

    @property
    def has_motion(self) -> bool:
        """Position, scale or rotation change over time, or the picture turns: the moving path."""
        return (self.x.constant is None or self.y.constant is None
                or (self.scale is not None and self.scale.constant is None)
                or self.rotation.constant != 0.0)


class CaptionStyle(Strict):
    """How a captions track looks; sizes are pixels at the project height (scaled to the output)."""
    font: str = "DejaVu Sans"
    font_size: Annotated[float, ranged(4, 1000)] = 54
    color: Color = "#FFFFFF"
    outline: Annotated[float, ranged(0, 100)] = 3
    outline_color: Color = "#000000"
    shadow: Annotated[float, ranged(0, 100)] = 0
    background: Color | None = None
    position: Literal["bottom", "top", "middle"] = "bottom"
    margin: Annotated[float, ranged(0, 0.5)] = 0.06
    max_width: Annotated[float, ranged(0.1, 1)] = 0.9
    highlight_color: Color = "#FFD400"


class Duck(Strict):
    """Lower an audio track by ``amount_db`` while any track in ``under`` has sound."""
    under: tuple[Annotated[str, regex(NAME_RE, "track id")], ...]
    amount_db: Annotated[float, ranged(0, 60)] = 12
    attack: Annotated[float, ranged(0.001, 10)] = 0.15
    release: Annotated[float, ranged(0.001, 10)] = 0.4


TRACK_KINDS = ("video", "overlay", "audio", "captions")


class Track(Strict):
    id: Annotated[str, regex(NAME_RE, "track id")]
    kind: Literal["video", "overlay", "audio", "captions"]
    clips: tuple[Clip, ...] = ()
    style: CaptionStyle | None = None  # captions tracks
    duck: Duck | None = None           # audio tracks


class Project(Strict):
    schema_version: Literal[1]
    id: Annotated[str, regex(PROJECT_ID_RE, "project id")]
    tenant: Annotated[str, regex(TENANT_RE, "tenant")]
    env: Literal["dev", "staging", "prod"]
    settings: Settings
    assets: dict[Annotated[str, regex(NAME_RE, "asset name")], AssetRef] = {}
    tracks: tuple[Track, ...]
    # free JSON for people and tools (an import's origin, markers); never read by planning, so it
    # changes no plan and no plan hash
    metadata: Annotated[dict[str, Any], BeforeValidator(_plain_json)] = {}

    def clip_paths(self):
        """(json path, track, clip) for every picture and sound clip, bottom track first (captions
        are not media: see ``caption_tracks``)."""
        for ti, track in enumerate(self.tracks):
            if track.kind == "captions":
                continue
            for ci, clip in enumerate(track.clips):
                yield f"tracks[{ti}].clips[{ci}]", track, clip

    def caption_tracks(self):
        """(json path, track) for every captions track, bottom first."""
        for ti, track in enumerate(self.tracks):
            if track.kind == "captions":
                yield f"tracks[{ti}]", track

    def canonical(self) -> dict[str, Any]:
        """The project as a document again (only the fields that were given): jobs store it."""
        return json.loads(self.model_dump_json(exclude_unset=True, exclude_none=True))


# ---------------------------------------------------------------- loading

def load_project(source: str | Path | dict[str, Any] | bytes, values: dict[str, Any] | None = None) -> Project:
    """Parse and validate a project from a file, JSON text or a dict. Raises ValidationError.

    A template (a document with ``variables``) is filled in first, with ``values`` or its defaults
    (``template.apply_template``); ``values`` for a document without variables are refused."""
    doc = _read_document(source)
    if not isinstance(doc, dict):
        raise ValidationError(["$: a project must be a JSON object"])
    if is_template(doc) or values:
        if not is_template(doc):
            raise ValidationError([f"values.{name}: the project declares no variables" for name in sorted(values or {})],
                                  stage="template")
        doc = apply_template(doc, values)
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
            msg = (f"schema_version: {version} is newer than this engine understands "
                   f"(it reads version {SCHEMA_VERSION}); upgrade cutlite")
        else:
            msg = f"schema_version: must be {SCHEMA_VERSION}"
        raise ValidationError([msg])
    try:
        project = Project.model_validate(doc)
    except pydantic.ValidationError as exc:
        # Field errors first, then the cross-field rules over every part that is valid on its own,
        # so that one typo does not hide the rest.
        raise ValidationError(_format_pydantic(exc) + _check_semantics(_Parts.from_document(doc))) from None
    problems = _check_semantics(_Parts.from_project(project))
    if problems:
        raise ValidationError(problems)
    return project


def _read_document(source: str | Path | dict[str, Any] | bytes) -> Any:
    """The document through the one loader (engines.documents): its limits, duplicate keys, NaN."""
    if isinstance(source, dict):
        # Round-trip floats through Decimal so 0.1 stays exactly 1/10.
        return read_json(json.dumps(source), parse_float=Decimal)
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("{")):
        return read_json_file(source, parse_float=Decimal, what=f"project file {source}")
    return read_json(source, parse_float=Decimal)


def _json_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "literal[", TAG, CANVAS_TAG)):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "$"


_FIELDS_BY_MODEL = {m: set(m.model_fields) for m in (Project, Settings, AssetRef, *EFFECTS.values(), Crop, Mask,
                                                       BlurCanvas, ColorCanvas, ImageCanvas, Stroke, Shadow, Box,
                                                       TextAnimation,
                                                       Transition, Clip, Track, Word, CaptionStyle, Duck,
                                                       LoudnessTarget)}


_FIELD_MSG = re.compile(r"^[a-z_]+: ")


def _format_pydantic(exc: pydantic.ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = _json_path(loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field" + _did_you_mean(str(loc[-1]))
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "literal_error":
            msg = msg.replace("Input should be", "must be")
        parts = msg.split(" | ")
        if err["type"] == "value_error" and all(_FIELD_MSG.match(m) for m in parts):
            # A model-level check: each part is "field: message" inside this object.
            problems.extend(f"{path}.{m}" if path != "$" else m for m in parts)
            continue
        problems.append(f"{path}: {msg}")
    return problems


def _did_you_mean(name: str) -> str:
    known = set().union(*_FIELDS_BY_MODEL.values())
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean \"{close[0]}\"?)" if close else ""


# ---------------------------------------------------------------- cross-field rules

_MEDIA_ONLY = ("source_in", "source_out", "asset")
_TEXT_ONLY = ("font", "font_size", "color", "stroke", "shadow", "box", "align", "max_width", "line_spacing", "bold",
              "italic", "animation_in", "animation_out")
_PICTURE = ("fit", "x", "y", "scale", "opacity", "filters", "rotation", "flip", "crop", "mask", "blend", "canvas")


@dataclass
class _Track:
    index: int
    id: str
    kind: str
    clips: list[tuple[int, Clip]]  # (index in the document, clip)
    complete: bool                 # every clip of the track validated
    style: CaptionStyle | None = None
    duck: Duck | None = None


@dataclass
class _Parts:
    """What the cross-field rules look at: a whole Project, or the valid parts of a document."""

    asset_names: set[str]
    fps: Fraction | None
    tracks: list[_Track]
    loose_refs: list[tuple[str, str]] = field(default_factory=list)  # (path, asset) of invalid clips
    luts: set[str] = field(default_factory=set)  # assets whose path is a .cube file (kind lut)
    files: set[str] = field(default_factory=set)  # assets given by a path (the others: by asset_id)

    @classmethod
    def from_project(cls, project: Project) -> "_Parts":
        return cls(set(project.assets), project.settings.fps,
                   [_Track(ti, t.id, t.kind, list(enumerate(t.clips)), True, t.style, t.duck)
                    for ti, t in enumerate(project.tracks)],
                   luts={n for n, a in project.assets.items() if a.path is not None and is_cube(a.path)},
                   files={n for n, a in project.assets.items() if a.path is not None})

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> "_Parts":
        assets = doc.get("assets")
        try:
            fps: Fraction | None = parse_fps((doc.get("settings") or {}).get("fps"))
        except (ValueError, AttributeError):
            fps = None
        tracks, loose_refs = [], []
        raw_tracks = doc.get("tracks")
        for ti, raw in enumerate(raw_tracks if isinstance(raw_tracks, list) else []):
            if not isinstance(raw, dict) or raw.get("kind") not in TRACK_KINDS:
                continue
            clips, complete = [], True
            raw_clips = raw.get("clips")
            for ci, rc in enumerate(raw_clips if isinstance(raw_clips, list) else []):
                try:
                    clips.append((ci, Clip.model_validate(rc)))
                except pydantic.ValidationError:
                    complete = False
                    if isinstance(rc, dict) and isinstance(rc.get("asset"), str):
                        loose_refs.append((f"tracks[{ti}].clips[{ci}]", rc["asset"]))
            tracks.append(_Track(ti, str(raw.get("id")), raw["kind"], clips, complete, *_track_options(raw)))
        files = {n for n, a in assets.items() if isinstance(a, dict) and isinstance(a.get("path"), str)} \
            if isinstance(assets, dict) else set()
        luts = {n for n in files if is_cube(assets[n]["path"])}  # type: ignore[index]
        return cls(set(assets) if isinstance(assets, dict) else set(), fps, tracks, loose_refs, luts, files)


def _track_options(raw: dict[str, Any]) -> tuple[CaptionStyle | None, Duck | None]:
    """A raw track's style and duck where they validate on their own (else reported already)."""
    out: list[Any] = []
    for key, model in (("style", CaptionStyle), ("duck", Duck)):
        try:
            out.append(model.model_validate(raw[key]) if raw.get(key) is not None else None)
        except pydantic.ValidationError:
            out.append(None)
    return out[0], out[1]


def _check_semantics(parts: _Parts) -> list[str]:
    problems: list[str] = []
    seen_tracks: dict[str, int] = {}
    for track in parts.tracks:
        if track.id in seen_tracks:
            problems.append(f"tracks[{track.index}].id: duplicate track id \"{track.id}\" "
                            f"(also tracks[{seen_tracks[track.id]}])")
        seen_tracks.setdefault(track.id, track.index)
    seen_clips: dict[str, str] = {}
    for track in parts.tracks:
        for ci, clip in track.clips:
            path = f"tracks[{track.index}].clips[{ci}]"
            if clip.id in seen_clips:
                problems.append(f"{path}.id: duplicate clip id \"{clip.id}\" (also {seen_clips[clip.id]})")
            seen_clips.setdefault(clip.id, path)
            if track.kind == "captions":
                problems.extend(_check_caption(parts, path, clip))
                continue
            if "start" not in _set_fields(clip):
                problems.append(f"{path}.start: required field is missing")
            if clip.words:
                problems.append(f"{path}.words: only caption cues take \"words\"")
            problems.extend(_check_clip(parts, path, track.kind, clip))
    problems += [p for path, asset in parts.loose_refs if (p := _unknown_asset(parts, path, asset))]
    problems += _check_track_options(parts)
    for track in parts.tracks:
        if track.kind == "video" and track.complete and parts.fps is not None:
            problems.extend(_check_video_track(parts.fps, track))
    if parts.tracks and not any(track.clips for track in parts.tracks) and all(t.complete for t in parts.tracks):
        problems.append("tracks: the project has no clips: nothing to render")
    return problems


_CAPTION_FIELDS = {"id", "start", "asset", "text", "duration", "words"}


def _check_caption(parts: _Parts, path: str, clip: Clip) -> list[str]:
    """A caption clip is a subtitle file (``asset``, optional ``start``) or one cue."""
    problems = [f"{path}.{f}: not allowed on a caption clip" for f in sorted(_set_fields(clip) - _CAPTION_FIELDS)]
    if clip.asset is not None:
        if clip.text is not None or clip.words or clip.duration is not None:
            problems.append(f"{path}: a subtitle file clip takes \"asset\" and \"start\" only (its cues keep "
                            f"their own times)")
        unknown = _unknown_asset(parts, path, clip.asset)
        return problems + ([unknown] if unknown else [])
    if clip.text is None:
        return problems + [f"{path}: a caption clip needs \"asset\" (a .srt, .vtt or .ass file) or \"text\""]
    if "start" not in _set_fields(clip):
        problems.append(f"{path}.start: required field is missing")
    if clip.duration is None or clip.duration <= 0:
        problems.append(f"{path}.duration: caption cues need a duration > 0")
    if not clip.text.strip():
        problems.append(f"{path}.text: must not be empty")
    if len(clip.text) > 500:
        problems.append(f"{path}.text: at most 500 characters (got {len(clip.text)})")
    if "\x00" in clip.text:
        problems.append(f"{path}.text: must not contain NUL characters")
    prev_end = Fraction(0)
    for wi, word in enumerate(clip.words):
        where = f"{path}.words[{wi}]"
        if not word.text.strip():
            problems.append(f"{where}.text: must not be empty")
        if word.end <= word.start:
            problems.append(f"{where}.end: must be after start")
        if word.start < prev_end:
            problems.append(f"{where}.start: words must be in order and must not overlap")
        if clip.duration is not None and word.end > clip.duration:
            problems.append(f"{where}.end: past the cue's duration ({fraction_text(clip.duration)} s)")
        prev_end = max(prev_end, word.end)
    return problems


def _check_track_options(parts: _Parts) -> list[str]:
    """``style`` belongs to captions tracks, ``duck`` to audio tracks naming other tracks."""
    problems = []
    ids = {t.id for t in parts.tracks}
    for track in parts.tracks:
        if track.style is not None and track.kind != "captions":
            problems.append(f"tracks[{track.index}].style: only captions tracks take a style")
        duck = track.duck
        if duck is None:
            continue
        where = f"tracks[{track.index}].duck"
        if track.kind != "audio":
            problems.append(f"{where}: only audio tracks can be ducked")
        if not duck.under:
            problems.append(f"{where}.under: name at least one track")
        for i, name in enumerate(duck.under):
            if name == track.id:
                problems.append(f"{where}.under[{i}]: a track cannot duck under itself")
            elif name not in ids:
                problems.append(f"{where}.under[{i}]: unknown track \"{name}\"" + _close(name, ids))
    return problems


def _set_fields(clip: Clip) -> set[str]:
    return set(clip.model_fields_set)


def _check_animations(path: str, clip: Clip) -> list[str]:
    """A text clip's entrance and exit last more than nothing and fit in it, one after the other."""
    problems = []
    for name in ("animation_in", "animation_out"):
        anim = getattr(clip, name)
        if anim is not None and anim.duration <= 0:
            problems.append(f"{path}.{name}.duration: must be > 0")
    a, b = clip.animation_in, clip.animation_out
    total = (a.duration if a else Fraction(0)) + (b.duration if b else Fraction(0))
    if clip.duration is not None and clip.duration > 0 and total > clip.duration:
        where = f"{path}.animation_out.duration" if b else f"{path}.animation_in.duration"
        problems.append(f"{where}: the animations ({fraction_text(total)} s together) are longer than the clip "
                        f"({fraction_text(clip.duration)} s)")
    return problems


def _check_clip(parts: _Parts, path: str, kind: str, clip: Clip) -> list[str]:
    problems = []
    given = _set_fields(clip)
    if clip.is_text:
        if kind != "overlay":
            problems.append(f"{path}.text: text clips belong on overlay tracks, not {kind}")
        if clip.asset is not None:
            problems.append(f"{path}: give either \"text\" or \"asset\", not both")
        for f in ("source_in", "source_out", "speed", "volume", "muted", "fit", "filters", "rotation", "flip",
                  "crop", "reverse", "freeze_at", "mask", "blend", "canvas"):
            if f in given:
                problems.append(f"{path}.{f}: not allowed on a text clip")
        if clip.duration is None or clip.duration <= 0:
            problems.append(f"{path}.duration: text clips need a duration > 0")
        if len(clip.text or "") > 500:
            problems.append(f"{path}.text: at most 500 characters (got {len(clip.text or '')})")
        if not (clip.text or "").strip():
            problems.append(f"{path}.text: must not be empty")
        if "\x00" in (clip.text or ""):
            problems.append(f"{path}.text: must not contain NUL characters")
        problems += _check_animations(path, clip)
        return problems
    if clip.asset is None:
        return [f"{path}: a clip needs \"asset\" (media) or \"text\""]
    unknown = _unknown_asset(parts, path, clip.asset)
    if unknown:
        problems.append(unknown)
    elif clip.asset in parts.luts:
        problems.append(f"{path}.asset: \"{clip.asset}\" is a LUT (a .cube file), not media; "
                        f"a clip's filters use it: {{\"type\": \"lut\", \"asset\": \"{clip.asset}\"}}")
    for fi, effect in enumerate(clip.filters):
        for name in effect.assets():
            if (unknown := _unknown_asset(parts, f"{path}.filters[{fi}]", name)):
                problems.append(unknown)
            elif effect.type == "lut" and name in parts.files and name not in parts.luts:
                problems.append(f"{path}.filters[{fi}].asset: \"{name}\" is not a LUT: a lut reads a .cube file")
    for f in _TEXT_ONLY:
        if f in given:
            problems.append(f"{path}.{f}: only text clips take \"{f}\"")
    if kind == "audio":
        for f in _PICTURE + ("transition_in",):
            if f in given:
                problems.append(f"{path}.{f}: audio clips have no picture")
    if clip.transition_in is not None and kind != "video":
        problems.append(f"{path}.transition_in: transitions belong on video tracks")
    if clip.canvas is not None:
        if kind != "video" or clip.fit != "contain":
            problems.append(f"{path}.canvas: only clips of video tracks with fit \"contain\" have bars to fill "
                            f"(this one: {kind} track, fit \"{clip.fit}\")")
        if isinstance(clip.canvas, ImageCanvas) and (unknown := _unknown_asset(parts, f"{path}.canvas", clip.canvas.asset)):
            problems.append(unknown)
    problems += _check_time_fields(path, kind, clip, given)
    has_range = clip.source_in is not None or clip.source_out is not None
    if has_range:
        if clip.source_in is None or clip.source_out is None:
            problems.append(f"{path}: give both source_in and source_out")
        elif clip.source_in >= clip.source_out:
            problems.append(f"{path}.source_out: must be greater than source_in "
                            f"({fraction_text(clip.source_out)} <= {fraction_text(clip.source_in)})")
        if clip.duration is not None:
            problems.append(f"{path}.duration: give source_in/source_out or duration, not both")
    elif clip.duration is None:
        problems.append(f"{path}: give source_in and source_out (or duration for an image)")
    elif clip.duration <= 0:
        problems.append(f"{path}.duration: must be > 0")
    if clip.transition_in is not None and clip.transition_in.type not in TRANSITIONS:
        problems.append(f"{path}.transition_in.type: unknown transition \"{clip.transition_in.type}\""
                        f"; known: {', '.join(sorted(TRANSITIONS))}")
    return problems


def _check_time_fields(path: str, kind: str, clip: Clip, given: set[str]) -> list[str]:
    """Freeze frames, reverse and speed ramps: which combinations a clip may have."""
    problems = []
    if clip.freeze_at is not None:
        if kind == "audio":
            problems.append(f"{path}.freeze_at: a freeze frame is a picture; audio clips have none")
        for f in ("source_in", "source_out", "speed", "reverse"):
            if f in given:
                problems.append(f"{path}.{f}: a freeze frame takes freeze_at and duration, not {f}")
        if clip.duration is None:
            problems.append(f"{path}.duration: a freeze frame needs a duration > 0")
    if clip.reverse and clip.ramp is not None:
        problems.append(f"{path}.reverse: a reversed clip takes a constant speed, not a speed ramp")
    if clip.ramp is not None and clip.source_in is not None and clip.source_out is not None:
        if clip.speed.points[0][0] != 0:  # type: ignore[union-attr]
            problems.append(f"{path}.speed: a speed ramp's first key must be at t 0")
    return problems


def _unknown_asset(parts: _Parts, path: str, asset: str) -> str | None:
    if asset in parts.asset_names:
        return None
    return f"{path}.asset: unknown asset \"{asset}\"" + _close(asset, parts.asset_names)


def _close(name: str, options: Any) -> str:
    close = difflib.get_close_matches(name, sorted(options), n=1)
    return f" (did you mean \"{close[0]}\"?)" if close else ""


def clip_length_seconds(clip: Clip) -> Fraction | None:
    """Timeline length before snapping: (out - in) / speed, where a speed ramp's integral reaches
    out - in, or duration."""
    if clip.duration is not None:
        return clip.duration
    if clip.source_in is None or clip.source_out is None:
        return None
    if isinstance(clip.speed, Keyframes):
        return TimeMap(clip.speed.points, clip.speed.eases).length(clip.source_out - clip.source_in)
    return (clip.source_out - clip.source_in) / clip.speed


def _check_video_track(fps: Fraction, track: _Track) -> list[str]:
    """Clips on a video track may not overlap except by their declared transition (frames)."""
    problems = []
    prev_end: int | None = None
    prev_len = 0
    if any(clip_length_seconds(c) is None for _, c in track.clips):
        return problems  # already reported per clip
    ordered = sorted(track.clips, key=lambda ic: (snap_to_frame(ic[1].start, fps), ic[0]))
    for ci, clip in ordered:
        length = clip_length_seconds(clip)
        assert length is not None
        start = snap_to_frame(clip.start, fps)
        frames = snap_to_frame(length, fps)
        path = f"tracks[{track.index}].clips[{ci}]"
        if frames < 1:
            problems.append(f"{path}: shorter than one frame at {fraction_text(fps)} fps")
        tr = clip.transition_in
        if tr is not None:
            d = snap_to_frame(tr.duration, fps)
            if prev_end is None:
                problems.append(f"{path}.transition_in: the first clip of a track has nothing to transition from")
            elif d < 1:
                problems.append(f"{path}.transition_in.duration: shorter than one frame")
            elif start != prev_end - d:
                problems.append(
                    f"{path}.start: with a {fraction_text(tr.duration)} s transition the clip must start "
                    f"at the previous clip's end minus the transition "
                    f"({fraction_text(Fraction(prev_end - d) / fps)} s), not {fraction_text(clip.start)} s")
            elif d > min(prev_len, frames):
                problems.append(f"{path}.transition_in.duration: longer than one of the clips it joins")
        elif prev_end is not None and start < prev_end:
            problems.append(
                f"{path}.start: overlaps the previous clip on video track \"{track.id}\" "
                f"(starts {fraction_text(Fraction(start) / fps)} s, previous ends "
                f"{fraction_text(Fraction(prev_end) / fps)} s); use transition_in or move it")
        prev_end = start + frames if prev_end is None else max(prev_end, start + frames)
        prev_len = frames
    return problems
