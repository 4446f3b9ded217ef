"""The render plan: a pure function from (project, probe facts, profile, hardware decision) to
ffmpeg inputs, one filter graph for the whole timeline, output arguments, chunks and meta.

No I/O happens here. The same inputs give the same plan, byte for byte, and the same
``plan_hash`` (a sha256 over the plan's canonical JSON).

How the timeline becomes a graph:
- every media clip is its own input, seeked with ``-ss``/``-t`` so nothing before its
  ``source_in`` is decoded; each picture is conformed to the output grid with ``fps`` and made
  exactly as long as the clip with ``tpad`` (clone) + ``trim`` (frames), so VFR, short sources
  and speed changes all land on whole frames;
- a video track is a ``concat`` of clips and background gaps; a transition blends only the two
  clips' overlapping frames (a crossfade: the outgoing frames faded out in alpha and overlaid;
  the others: ``xfade``), so every other frame keeps its pixels in any window;
  the bottom video track is opaque, higher ones are transparent outside their clips;
- overlay clips are placed in time with ``setpts=N+start`` and composited in order with
  ``overlay`` (eof passes the picture below through); text is drawn with ``drawtext`` from a file;
- audio: each clip is trimmed, tempo-changed (pitch kept), gain-automated, padded/trimmed to
  its exact sample count and faded across transitions; clips that do not overlap in time are
  joined in order into one continuous lane (silence padded between), and the few lanes are summed
  with ``amix`` (no normalisation: ``volume`` is a gain). Clips reading the same part of a source
  share one input (``sound``: why this keeps the cost linear in the clip count). A ducked track's
  clips carry their ducking gain, a function of absolute time (``ducking.py``); loudness
  normalisation follows the mix (``loudness.py``, after measuring);
- captions tracks are burnt in last, over the composed picture, by libass (``captions.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from engines.errors import ValidationError
from engines.ffmpeg.hardware import HardwareDecision
from engines.ffmpeg.probe import MediaInfo, VideoInfo
from engines.ffmpeg.profiles import EncoderSettings, RenderProfile, nearest_even, resolve_encoder
from engines.model.project import TRANSITIONS, Clip, Keyframes, Project
from engines.model.timebase import fraction_text, frames_to_samples, frames_to_seconds, to_ffmpeg_seconds
from engines.model.timeline import PlacedClip, Timeline, place_project

from .captions import CAPTION_FONTS_DIR, CaptionSources, build_ass, sidecars, track_cues
from .chunks import Chunk, plan_chunks
from .color import BT709_TAGS, input_params, pinned_format, to_bt709
from .damage import damage_warnings
from .ducking import DuckPlan, duck_filter, plan_ducks
from .filtergraph import chain, graph_parts, num, piecewise_linear, quote, rate
from .motion import const, keyframe_expr, ramp_timeline_expr
from .sound import assign_lanes, source_runs

PLAN_VERSION = "cutlite.plan/1"
DEFAULT_FONT = str(Path(__file__).parent / "fonts" / "DejaVuSans.ttf")  # bundled, with its licence
SEEK_MARGIN = Fraction(1, 4)  # extra source seconds read past a clip's end; trimmed exactly after
# image formats that hold one picture (an image clip reads it once; GIFs and WebPs may animate)
STILL_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "tiff_pipe", "jpegxl_pipe", "qoi_pipe", "ppm_pipe",
                 "pgm_pipe", "svg_pipe"}


class PlanInput(BaseModel):
    model_config = ConfigDict(frozen=True)
    index: int
    clip: str
    asset: str
    path: str
    kind: str
    args: list[str]  # input options, before "-i path"


class RenderPlan(BaseModel):
    model_config = ConfigDict(frozen=True)
    version: str = PLAN_VERSION
    project_id: str
    tenant: str
    env: str
    profile: str
    width: int
    height: int
    fps: str
    frames: int
    duration: str  # exact seconds, rational text
    sample_rate: int
    samples: int
    inputs: list[PlanInput]
    filter_graph: str
    files: dict[str, str]  # name -> text written into the work folder (drawtext texts)
    links: dict[str, str]  # absolute file -> its name in the work folder (fonts)
    global_args: list[str]
    output_args: list[str]
    chunks: list[Chunk]
    window: list[int] | None = None  # [a, b) output frames of the full timeline, when not all
    streams: str = "both"
    meta: dict[str, Any]
    plan_hash: str = ""

    GRAPH_FILE: ClassVar[str] = "filter_graph.txt"

    def argv(self, output: str) -> list[str]:
        """ffmpeg arguments (without the binary) to run inside the work folder."""
        args = list(self.global_args)
        for inp in self.inputs:
            args += [*inp.args, "-i", inp.path]
        # "-/filter_complex FILE" reads a graph from a file: no argv length limit, no quoting
        for name in self.graph_files():
            args += ["-/filter_complex", name]
        return args + [*self.output_args, output]

    def graph_files(self) -> dict[str, str]:
        """The filter graph as ffmpeg is given it: one file per independent part (picture, sound),
        each its own ``-filter_complex`` (``filtergraph.graph_parts`` says why)."""
        parts = graph_parts(self.filter_graph)
        if len(parts) == 1:
            return {self.GRAPH_FILE: self.filter_graph}
        stem = self.GRAPH_FILE.removesuffix(".txt")
        return {f"{stem}_{i}.txt": part for i, part in enumerate(parts)}

    def work_files(self) -> dict[str, str]:
        return {**self.files, **self.graph_files()}


def hash_plan(plan: RenderPlan, sources: dict[str, str] | None = None) -> str:
    """sha256 of the plan's canonical JSON. With ``sources`` (asset name -> a machine-independent
    identity, e.g. its asset id), inputs are named by it instead of by their local file and the
    hardware decision's wording is left out: the same job planned on another machine (another
    cache folder for the same object, another probe report) hashes the same."""
    doc = plan.model_dump(exclude={"plan_hash"})
    doc["links"] = portable_links(doc["links"])
    # warnings say something about the output, they are not part of it: damage found in a source
    # after a job was submitted must not make its plan "changed"
    doc["meta"].pop("warnings", None)
    if sources is not None:
        for inp in doc["inputs"]:
            inp["path"] = sources.get(inp["asset"], inp["path"])
        # how the encoder was chosen (requested, reason, probe details) is not the output: the
        # encoder and its arguments, which are, stay in the hash
        doc["meta"].pop("hardware", None)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def portable_links(links: dict[str, str]) -> dict[str, str]:
    """Linked files by file name: where a font lives on this machine does not change the output
    (and server paths stay on the server)."""
    return {k.rsplit("/", 1)[-1]: v for k, v in links.items()}


def source_identities(project: Project) -> dict[str, str]:
    """Asset name -> identity that holds on every machine: the asset id, or the project's path."""
    return {name: ref.asset_id or f"path:{ref.path}" for name, ref in project.assets.items()}


# ---------------------------------------------------------------- media rules that need probes

def check_media(project: Project, media: dict[str, MediaInfo], only: set[str] | None = None) -> list[str]:
    """Rules that need probe facts: source ranges within the source, kinds on the right tracks.
    ``only`` limits the check to those clip paths (a window's visible clips)."""
    problems = []
    for path, track, clip in project.clip_paths():
        if clip.is_text or clip.asset not in media or (only is not None and path not in only):
            continue
        info = media[clip.asset]
        if info.kind == "image":
            for f in ("reverse", "freeze_at"):
                if f in clip.model_fields_set and getattr(clip, f):
                    problems.append(f"{path}.{f}: \"{clip.asset}\" is an image: it has no time to "
                                    f"{'reverse' if f == 'reverse' else 'freeze'}")
            if clip.duration is None:
                problems.append(f"{path}: \"{clip.asset}\" is an image: give duration, not source_in/source_out")
            if track.kind == "audio":
                problems.append(f"{path}: \"{clip.asset}\" is an image and has no sound for an audio track")
            continue
        if clip.freeze_at is not None:
            if info.video is None:
                problems.append(f"{path}.freeze_at: \"{clip.asset}\" has no picture to freeze")
            elif info.duration is not None and clip.freeze_at >= info.duration:
                problems.append(f"{path}.freeze_at: {fraction_text(clip.freeze_at)} s is past the end of "
                                f"\"{clip.asset}\" ({float(info.duration):.3f} s)")
            continue
        if clip.duration is not None:
            problems.append(f"{path}.duration: \"{clip.asset}\" is a {info.kind}: give source_in and source_out")
            continue
        if track.kind in ("video", "overlay") and info.video is None:
            problems.append(f"{path}.asset: \"{clip.asset}\" has no picture for a {track.kind} track "
                            f"(put it on an audio track)")
        if track.kind == "audio" and info.audio is None:
            problems.append(f"{path}.asset: \"{clip.asset}\" has no audio stream for an audio track")
        if info.duration is not None and clip.source_out is not None and clip.source_out > info.duration:
            problems.append(f"{path}.source_out: {fraction_text(clip.source_out)} s is past the end of "
                            f"\"{clip.asset}\" ({float(info.duration):.3f} s)")
    return problems


# ---------------------------------------------------------------- the plan

@dataclass
class _Graph:
    chains: list[str] = field(default_factory=list)
    inputs: list[PlanInput] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    slates: dict[str, str] = field(default_factory=dict)
    fonts: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # font file -> its name in the work folder
    lengths: dict[str, int] = field(default_factory=dict)  # clip path -> its frames in the full timeline
    counter: int = 0

    def label(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def add(self, inputs: list[str], filters: list[str | None], prefix: str) -> str:
        out = self.label(prefix)
        self.chains.append(chain(inputs, filters, out))
        return out


@dataclass(frozen=True)
class _Out:
    width: int
    height: int
    fps: Fraction
    sample_rate: int
    pix_fmt: str          # working pixel format of the graph
    background: str       # 0xRRGGBB
    scale_y: Fraction     # output height / project height (text sizes)


def build_plan(project: Project, media: dict[str, MediaInfo], profile: RenderProfile,
               hw: HardwareDecision, *, fonts: dict[str, str] | None = None,
               warnings: list[str] | None = None, window: tuple[int, int] | None = None,
               streams: str = "both", chunk_frames: int | None = None,
               keyframe_at: int | None = None, slates: dict[str, str] | None = None,
               captions: CaptionSources | None = None) -> RenderPlan:
    """The render plan. ``fonts`` maps a text clip id to its font file (default font: key "").

    ``window`` renders only the output frames ``[a, b)``, identical to those frames of the full
    render (chunks, range previews); only the clips visible in it need ``media``. ``streams`` is
    ``both``, ``video`` or ``audio``. ``chunk_frames`` splits the output into chunks (see
    ``chunks.plan_chunks``). ``keyframe_at`` forces a keyframe at that output frame (GOPs count
    on from it): where a chunk is cut out. ``slates`` maps asset names that have no media to the
    line a placeholder shows in their pictures' place (previews); their sound is silence.
    ``captions`` has the captions tracks' subtitle files and font chains (``engines.planning.captions``).
    """
    s = project.settings
    streams = profile_streams(profile, streams)
    width, height = profile.output_size(s.width, s.height)
    fps = profile.output_fps(s.fps)
    full = place_project(project).at_rate(fps)
    if full.frames < 1:
        raise ValidationError([f"tracks: the timeline ({fraction_text(Fraction(place_project(project).frames) / s.fps)}"
                               f" s) is shorter than one frame at {fraction_text(fps)} fps ({profile.name})"],
                              stage="plan")
    a, b = window or (0, full.frames)
    timeline, lead = full.window(a, b) if window else (full, 0)
    slates = slates or {}
    visible = {pc.path for pc in timeline.clips()} if window else None
    problems = check_media(project, media, visible)
    missing = sorted({c.asset for p, _, c in project.clip_paths() if c.asset and c.asset not in media
                      and c.asset not in slates and (visible is None or p in visible)})
    problems += [f"assets.{name}: not resolved (missing or unreadable)" for name in missing]
    if problems:
        raise ValidationError(problems, stage="plan")
    enc = resolve_encoder(profile, hw.family, fps)
    alpha = s.background == "transparent"
    # a transparent canvas composes with alpha all the way (8-bit: what overlay blends with alpha in)
    working_fmt = "yuva420p" if alpha else "yuv420p10le" if profile.pix_fmt.endswith("10le") else "yuv420p"
    out = _Out(width, height, fps, s.sample_rate, working_fmt,
               "black@0" if alpha else "0x" + s.background[1:].upper(), Fraction(height, s.height))
    base = a - lead  # absolute frame of the extended window's first frame
    g = _Graph(warnings=list(warnings or []), slates=slates, fonts=fonts or {},
               lengths={pc.path: pc.frames for pc in full.clips()})
    links = g.links

    if streams in ("both", "video"):
        video = _video_tracks(g, project, timeline, media, out)
        video = _overlay_tracks(g, project, timeline, media, out, video)
        video = _captions(g, project, captions or CaptionSources(), out, base, timeline.frames, video)
        trim = None if (lead, timeline.frames) == (0, b - a) else \
            f"trim=start_frame={lead}:end_frame={lead + b - a},settb={fraction_text(1 / fps)},setpts=N"
        # every frame is BT.709 limited range by now: say so (metadata only, no conversion)
        g.chains.append(chain([video], [trim, pinned_format(working_fmt), BT709_TAGS, enc.filter_tail], "vout"))
    samples = frames_to_samples(b, fps, s.sample_rate) - frames_to_samples(a, fps, s.sample_rate)
    if streams in ("both", "audio"):
        _audio(g, timeline, media, out, base, (a, b), plan_ducks(project, full))

    for pc in full.clips():
        if pc.frames <= 0:
            g.warnings.append(f"{pc.path}: shorter than one frame at {fraction_text(fps)} fps; not shown")
    g.warnings += damage_warnings(timeline, media)
    plan = RenderPlan(
        project_id=project.id, tenant=project.tenant, env=project.env, profile=profile.name,
        width=width, height=height, fps=rate(fps), frames=b - a,
        duration=fraction_text(frames_to_seconds(b - a, fps)), sample_rate=s.sample_rate,
        samples=samples, inputs=g.inputs, filter_graph=";\n".join(g.chains), files=g.files, links=links,
        global_args=["-y", "-filter_complex_threads", str(profile.filter_threads or 0), *enc.global_args],
        output_args=_output_args(profile, enc, fps, streams, alpha)
        + (["-force_key_frames", f"expr:eq(n,{keyframe_at})"] if keyframe_at else []),
        # a GIF (one palette from every frame) or a sound-only output is one pass: no chunks
        chunks=plan_chunks(b - a, profile.gop_frames(fps), chunk_frames) if profile.chunked else [],
        window=[a, b] if window else None, streams=streams,
        meta={"profile": profile.name, "encoder": enc.encoder, "hardware": hw.to_dict(),
              "pix_fmt": profile.pix_fmt, "warnings": g.warnings,
              **({"sidecars": _sidecars(project, captions or CaptionSources(), fps, full.frames)}
                 if window is None and any(True for _ in project.caption_tracks()) else {})},
    )
    return plan.model_copy(update={"plan_hash": hash_plan(plan)})


def profile_streams(profile: RenderProfile, streams: str) -> str:
    """The streams a pass of ``profile`` makes: an audio-only profile has no picture, a GIF no sound."""
    if not profile.has_video:
        if streams == "video":
            raise ValidationError([f"profile: {profile.name} has no picture"], stage="plan")
        return "audio"
    if profile.audio_codec is None:
        if streams == "audio":
            raise ValidationError([f"profile: {profile.name} has no sound"], stage="plan")
        return "video"
    return streams


ALPHA_ARGS = {  # the encoders that keep a transparent canvas's alpha, and how (options given later win)
    "prores": ["-profile:v", "4", "-pix_fmt", "yuva444p10le", "-alpha_bits", "16"],  # ProRes 4444, not 422 HQ
    "vp9": ["-pix_fmt", "yuva420p"],  # VP9 with an alpha plane in WebM
}


def _output_args(profile: RenderProfile, enc: EncoderSettings, fps: Fraction, streams: str,
                 alpha: bool = False) -> list[str]:
    if profile.codec == "gif":  # the composed frames, lossless: the palette is chosen from them after
        return ["-map", "[vout]", "-c:v", "ffv1", "-level", "3", "-an", *container_args(fps, "mkv")]
    alpha_args = ALPHA_ARGS.get(profile.codec or "", []) if alpha else []
    video = ["-map", "[vout]", "-c:v", enc.encoder, *enc.codec_args, *alpha_args]
    audio = ["-map", "[aout]", *profile.audio_args]
    picked = {"both": video + audio, "video": video + ["-an"], "audio": audio + ["-vn"]}[streams]
    return picked + container_args(fps, profile.container)


def video_timescale(fps: Fraction) -> int:
    """An mp4 timescale with an exact tick count per frame (e.g. 3003 ticks at 30000/1001)."""
    return fps.numerator * max(1, 90000 // fps.numerator)


MUXERS = {"mp4": "mp4", "m4a": "mp4", "mov": "mov", "webm": "webm", "gif": "gif", "mkv": "matroska"}


def container_args(fps: Fraction, container: str = "mp4") -> list[str]:
    """Muxer flags pinned for every file the engine writes (renders and proxies), by container."""
    return [
        # the graph already made every frame: no duplication or dropping by the muxer
        "-fps_mode", "passthrough",
        *(["-video_track_timescale", str(video_timescale(fps))] if container in ("mp4", "mov") else []),
        *(["-movflags", "+faststart"] if container in ("mp4", "mov", "m4a") else []),
        *(["-loop", "0"] if container == "gif" else []),  # a GIF plays on, as chats and pages expect
        # the muxer named, not guessed from a file name (work files and partial outputs end in .mp4)
        *([] if container == "mp4" else ["-f", MUXERS[container]]),
        # the same plan gives the same bytes: no encoder version strings or dates
        "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        # every picture was brought to BT.709 limited range (setparams tags the frames too); a GIF is RGB
        *(["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]
          if container in ("mp4", "mov", "webm", "mkv") else []),
    ]


# ---------------------------------------------------------------- pictures

PREROLL = Fraction(1, 2)  # source seconds decoded before a cut-in point, for identical frame picks


def _seek(pc: PlacedClip, out: _Out) -> tuple[Fraction, Fraction]:
    """(seek position, pre-roll) in source seconds for the visible part of a media clip.

    Decoding a little before the cut-in point lets ``fps`` choose exactly the source frames a
    full render chooses (an input seek drops every frame before its position). Both are whole
    microseconds (ffmpeg's resolution), rounded so that the frame at the cut-in point lands at 0
    or just after it, never just before (``fps=...:start_time=0`` would drop it: measured).
    """
    point = _source_point(pc, out, frames_to_seconds(pc.head, out.fps) + pc.offset)
    preroll = min(PREROLL, point) if pc.head or pc.offset else Fraction(0)
    seek = _floor_micros(point - preroll)
    return seek, _floor_micros(point) - seek


def _source_point(pc: PlacedClip, out: _Out, into: Fraction) -> Fraction:
    """The source second shown ``into`` seconds after the clip's start (a ramp: its time map)."""
    clip = pc.clip
    ramp = clip.ramp
    advanced = into * clip.rate if ramp is None else Fraction(ramp.source(float(into)))
    return (clip.source_in or Fraction(0)) + advanced


def _forward(g: _Graph, pc: PlacedClip) -> PlacedClip:
    """What a reversed clip reads: the forward clip's frames that it shows, backwards (its last
    visible frame is the forward clip's first of them)."""
    if not pc.clip.reverse:
        return pc
    length = g.lengths.get(pc.path, pc.head + pc.frames)
    return dataclasses.replace(pc, start=0, end=pc.frames, head=length - pc.head - pc.frames)


def _floor_micros(seconds: Fraction) -> Fraction:
    return Fraction(seconds.numerator * 1_000_000 // seconds.denominator, 1_000_000)


def _input(g: _Graph, pc: PlacedClip, info: MediaInfo, out: _Out) -> int:
    clip = pc.clip
    seconds = frames_to_seconds(pc.frames, out.fps)
    args: list[str]
    if info.kind == "image" and info.format_name.split(",")[0] in STILL_FORMATS:
        # one frame, decoded, fitted and coloured once; ``tpad`` clones it for the clip's frames
        # (looping the file re-decoded and re-scaled it for every frame: a photo in a slideshow
        # cost a full-size decode per output frame)
        args = []
    elif info.kind == "image":  # an animated image (GIF): its frames, looped
        args = ["-loop", "1", "-framerate", rate(out.fps), "-t", to_ffmpeg_seconds(seconds + SEEK_MARGIN)]
    elif clip.freeze_at is not None:  # one frame: the first at or after freeze_at
        args = ["-ss", to_ffmpeg_seconds(_floor_micros(clip.freeze_at)), "-t", to_ffmpeg_seconds(SEEK_MARGIN),
                *NO_ROTATION]
    else:
        seek, preroll = _seek(pc, out)
        if clip.ramp is None:
            span = preroll + seconds * clip.rate + SEEK_MARGIN
        else:
            lead = frames_to_seconds(pc.head, out.fps) + pc.offset
            span = preroll + _source_point(pc, out, lead + seconds) - _source_point(pc, out, lead) + SEEK_MARGIN
        args = ["-ss", to_ffmpeg_seconds(seek), "-t", to_ffmpeg_seconds(span)]
        if info.video is not None:
            args += NO_ROTATION
    index = len(g.inputs)
    g.inputs.append(PlanInput(index=index, clip=clip.id, asset=clip.asset or "", path=info.path,
                              kind=info.kind, args=args))
    return index


def _fit(info: MediaInfo, clip: Clip, box_w: int, box_h: int,
         size: tuple[int, int] | None = None) -> tuple[int, int, list[str]]:
    """Scaled size and filters that fit the upright picture (``size``: after a crop) into the box."""
    assert info.video is not None
    src_w, src_h = size or info.video.display_size
    if clip.fit == "stretch":
        w, h = box_w, box_h
        return nearest_even(w), nearest_even(h), [f"scale={nearest_even(w)}:{nearest_even(h)}"]
    ratio_w, ratio_h = Fraction(box_w, src_w), Fraction(box_h, src_h)
    f = min(ratio_w, ratio_h) if clip.fit == "contain" else max(ratio_w, ratio_h)
    w, h = nearest_even(src_w * f), nearest_even(src_h * f)
    filters = [f"scale={w}:{h}"]
    if clip.fit == "cover" and (w > box_w or h > box_h):
        cw, ch = min(w, nearest_even(box_w)), min(h, nearest_even(box_h))
        filters.append(f"crop={cw}:{ch}:{(w - cw) // 2}:{(h - ch) // 2}")
        w, h = cw, ch
    return w, h, filters


def upright_filters(v: VideoInfo, speed: Fraction = Fraction(1), preroll: Fraction = Fraction(0),
                    timing: str | None = None) -> list[str]:
    """From decoded frames to upright, progressive, SDR pictures on the clip's own clock, their
    colour interpretation stated first.

    After an input seek, timestamps count from the seek position; the pre-roll is taken off so
    that 0 is the cut-in point (earlier frames go negative and ``fps=...:start_time=0`` drops them).
    """
    pts = "PTS" if not preroll else f"(PTS-{to_ffmpeg_seconds(preroll)}/TB)"
    # first, how the decoded pixels are to be read (matrix, range, primaries, transfer): stated,
    # never guessed by ffmpeg (see color.py)
    filters = [input_params(v), f"setpts={timing}" if timing else
               f"setpts={pts}" if speed == 1 else f"setpts={pts}*{speed.denominator}/{speed.numerator}"]
    if v.interlaced:
        filters.append("bwdif=mode=send_frame:deint=interlaced")
    filters += {90: ["transpose=clock"], 180: ["hflip", "vflip"], 270: ["transpose=cclock"]}.get(v.rotation, [])
    if v.is_hdr:
        # HDR (PQ/HLG) to SDR BT.709: linearise, tone-map (hable), back to BT.709 limited range.
        filters += ["zscale=t=linear:npl=100", "format=gbrpf32le", "zscale=p=bt709",
                    "tonemap=tonemap=hable:desat=0", "zscale=t=bt709:m=bt709:r=tv"]
    return filters

# Input options for every video source: the graph turns the picture upright from the probe, so
# ffmpeg must neither rotate it too (autorotate) nor copy the source's display matrix to the
# output, where a player would turn the upright picture again (measured: it does copy it).
NO_ROTATION = ["-noautorotate", "-display_rotation", "0"]


def _clip_picture(g: _Graph, pc: PlacedClip, info: MediaInfo | None, out: _Out, *, overlay: bool,
                  transparent_bg: bool) -> tuple[str, int | str, int | str]:
    """A labelled stream of exactly ``pc.frames`` frames at the output rate.

    Returns (label, x, y): for overlay clips the scaled picture and its top-left position (numbers,
    or expressions in the timeline's ``t`` when the clip moves); for video-track clips a full
    frame (x = y = 0). A clip without media is drawn as a slate.
    """
    clip = pc.clip
    if info is None:
        return _slate(g, pc, out, overlay=overlay, transparent_bg=transparent_bg)
    read = _forward(g, pc)  # a reversed clip reads forward and turns the frames round
    idx = _input(g, read, info, out)
    v = info.video
    assert v is not None
    if clip.has_motion:
        return _moving_picture(g, pc, read, idx, info, out, overlay=overlay, transparent_bg=transparent_bg)
    scale = clip.scale.constant if clip.scale is not None else (0.25 if overlay else 1.0)
    assert scale is not None
    box_w, box_h = Fraction(out.width) * Fraction(scale), Fraction(out.height) * Fraction(scale)
    crop, size = _source_crop(v, clip)
    w, h, fit = _fit(info, clip, nearest_even(box_w), nearest_even(box_h), size)
    fit[0] += to_bt709(v)  # the fit's first scale converts, with every option stated
    cx, cy = Fraction(out.width) * Fraction(clip.x.constant), Fraction(out.height) * Fraction(clip.y.constant)
    x, y = round(cx - Fraction(w, 2)), round(cy - Fraction(h, 2))
    filters: list[str | None] = [*_decode_filters(read, info, out), *crop, *fit, "setsar=1", *_flip(clip)]
    animated = [f for f in clip.filters if not _static_color(f)]
    filters += [_eq(f, None) for f in clip.filters if _static_color(f)]
    fmt = "yuva420p" if overlay or transparent_bg else out.pix_fmt
    # BT.709 limited range from here on, pinned and tagged: where this stream meets others
    # (xfade, concat, overlay) there is nothing left for ffmpeg to reconcile
    filters += [pinned_format(fmt), BT709_TAGS]
    if not overlay:
        filters += _place_in_frame(w, h, x, y, out, transparent_bg)
        x = y = 0
    filters += _conform(read, pc, out)
    filters += [_eq(f, _clock(pc, out, "t", pc.head)) for f in animated]
    if animated:
        filters += [pinned_format(fmt), BT709_TAGS]
    label = g.add([f"{idx}:{v.index}"], filters, "v")
    return label, x, y


def _decode_filters(read: PlacedClip, info: MediaInfo, out: _Out) -> list[str]:
    """From the decoded source to upright frames on the output grid, the clip's time applied
    (speed, a ramp's time map, a freeze frame's one frame)."""
    clip = read.clip
    v = info.video
    assert v is not None
    if clip.freeze_at is not None:
        return ["trim=end_frame=1", *upright_filters(v), f"fps={rate(out.fps)}:start_time=0"]
    preroll = _seek(read, out)[1] if info.kind != "image" else Fraction(0)
    timing = None
    if clip.ramp is not None and info.kind != "image":
        # each frame at the timeline second where the ramp reaches it (``model.motion.TimeMap``):
        # the source second after the seek is ``seek + T``; the visible part starts ``lead`` in
        seek = _seek(read, out)[0]
        lead = frames_to_seconds(read.head, out.fps) + read.offset
        r = f"T+{to_ffmpeg_seconds(seek - (clip.source_in or Fraction(0)))}"
        timing = f"({ramp_timeline_expr(clip.ramp, r)}-{to_ffmpeg_seconds(lead)})/TB"
    return [*upright_filters(v, clip.rate, preroll, timing), f"fps={rate(out.fps)}:start_time=0"]


def _conform(read: PlacedClip, pc: PlacedClip, out: _Out) -> list[str]:
    """Exactly the clip's frames on the output clock (a reversed clip's turned round)."""
    return ["tpad=stop=-1:stop_mode=clone", f"trim=end_frame={pc.frames}",
            *(["reverse"] if pc.clip.reverse else []), f"settb={fraction_text(1 / out.fps)}", "setpts=N"]


def _source_crop(v: VideoInfo, clip: Clip) -> tuple[list[str], tuple[int, int] | None]:
    """The ``crop`` field on the upright picture: filters and the upright size left."""
    if clip.crop is None:
        return [], None
    c = clip.crop
    w, h = (v.height, v.width) if v.rotation in (90, 270) else (v.width, v.height)
    cw = max(2, nearest_even(Fraction(w) * (1 - Fraction(c.left) - Fraction(c.right))))
    ch = max(2, nearest_even(Fraction(h) * (1 - Fraction(c.top) - Fraction(c.bottom))))
    x, y = min(w - cw, round(w * Fraction(c.left))), min(h - ch, round(h * Fraction(c.top)))
    dw, dh = v.display_size
    return [f"crop={cw}:{ch}:{x}:{y}"], (max(2, round(Fraction(dw * cw, w))), max(2, round(Fraction(dh * ch, h))))


def _flip(clip: Clip) -> list[str]:
    return {"horizontal": ["hflip"], "vertical": ["vflip"], "both": ["hflip", "vflip"]}.get(clip.flip, [])


def _static_color(f: Any) -> bool:
    return all(k.constant is not None for k in (f.brightness, f.contrast, f.saturation))


def _eq(f: Any, clock: str | None) -> str:
    """``eq`` for a colour filter: numbers, or (animated) expressions on the clip's own clock."""
    if clock is None:
        return f"eq=brightness={num(f.brightness.constant)}:contrast={num(f.contrast.constant)}" \
               f":saturation={num(f.saturation.constant)}"
    parts = [f"{name}={_curve(getattr(f, name), clock)}" for name in ("brightness", "contrast", "saturation")]
    return "eq=" + ":".join(parts) + ":eval=frame"


def _clock(pc: PlacedClip, out: _Out, var: str, frames_before: int) -> str:
    """The clip's own seconds as an expression, from a stream time ``var`` whose frame 0 is the
    clip's frame ``frames_before``: the frame index is rounded to a whole number first, so the
    clip's frame ``c`` gives the same double ``c / fps`` in every window and chunk (keys shifted
    by a window's start would round differently, a code value here and there)."""
    n, d = out.fps.numerator, out.fps.denominator
    frame = f"round({var}*{n}/{d})" + (f"+{frames_before}" if frames_before > 0 else
                                        f"-{-frames_before}" if frames_before < 0 else "")
    offset = f"+{const(float(pc.offset))}" if pc.offset else ""
    return f"({frame})*{d}/{n}{offset}"


def _curve(kf: Keyframes, clock: str) -> str:
    """A keyframed field as an expression of the clip's seconds (register 6 holds them)."""
    if kf.constant is not None:
        return num(kf.constant)
    return f"(st(6\\,{clock})\\;{keyframe_expr(list(kf.points), kf.eases, 'ld(6)')})"


def _moving_picture(g: _Graph, pc: PlacedClip, read: PlacedClip, idx: int, info: MediaInfo, out: _Out, *,
                    overlay: bool, transparent_bg: bool) -> tuple[str, int | str, int | str]:
    """A clip whose position, scale or rotation is keyframed (or that is turned).

    The picture is fitted once into the box at scale 1 (cover's crop taken from the source), then
    each frame is scaled by its own factor (``scale`` with ``eval=frame``: one resample a frame,
    like the fit it replaces), turned (``rotate``, into a transparent square) and placed by
    ``overlay`` at an expression of time: ffmpeg evaluates every curve once a frame, no per-frame
    work happens outside it. Rotation comes before a changing scale (``rotate`` keeps the size it
    was configured with). Video-track clips are placed on a canvas of the background colour.
    """
    clip = pc.clip
    v = info.video
    assert v is not None
    local = _clock(pc, out, "t", pc.head)  # the clip's chain: its first frame is the clip's frame ``head``
    default = 0.25 if overlay else 1.0
    scale = clip.scale if clip.scale is not None else Keyframes(points=((Fraction(0), default),))
    crop, size = _source_crop(v, clip)
    src_w, src_h = size or v.display_size
    box_w, box_h = nearest_even(out.width), nearest_even(out.height)
    if clip.fit == "cover":
        # crop the source to the box's shape first, so the one scale below is the whole fit
        f = max(Fraction(box_w, src_w), Fraction(box_h, src_h))
        w1, h1 = min(nearest_even(src_w * f), box_w), min(nearest_even(src_h * f), box_h)
        cw, ch = max(2, nearest_even(Fraction(w1) / f)), max(2, nearest_even(Fraction(h1) / f))
        if (cw, ch) != (nearest_even(src_w), nearest_even(src_h)):
            crop.append(f"crop={min(cw, src_w)}:{min(ch, src_h)}")
    elif clip.fit == "contain":
        f = min(Fraction(box_w, src_w), Fraction(box_h, src_h))
        w1, h1 = nearest_even(src_w * f), nearest_even(src_h * f)
    else:
        w1, h1 = box_w, box_h
    rotation = clip.rotation
    turning = rotation.constant != 0.0
    pic_fmt = "yuva420p10le" if out.pix_fmt.endswith("10le") else "yuva420p"
    filters: list[str | None] = [*_decode_filters(read, info, out), *crop]
    s_expr = _curve(scale, local)

    def sized(w: int, h: int) -> str:
        if scale.constant is not None:
            k = Fraction(scale.constant)
            return f"scale={max(2, nearest_even(w * k))}:{max(2, nearest_even(h * k))}"
        return f"scale=w=max(2\\,2*round({w}*({s_expr})/2)):h=max(2\\,2*round({h}*({s_expr})/2)):eval=frame"

    static_eq = [_eq(f, None) for f in clip.filters if _static_color(f)]
    # filters that keep the size they were configured with (rotate, eq, flip, geq, lut) all run
    # before a scale that changes frame by frame
    steady = [*[_eq(f, local) for f in clip.filters if not _static_color(f)],
              *(_moving_opacity(g, pc, out) if overlay else [])]
    if scale.constant is not None:
        filters += [sized(w1, h1) + to_bt709(v), "setsar=1", *_flip(clip), *static_eq, pinned_format(pic_fmt),
                    BT709_TAGS, *_conform(read, pc, out), *steady]
        if turning:
            s = Fraction(scale.constant)
            side = nearest_even(math.ceil(math.hypot(nearest_even(w1 * s), nearest_even(h1 * s))))
            filters.append(_rotate(rotation, local, side))
    elif turning or static_eq or steady or clip.flip != "none":
        # fitted once, coloured, faded and turned at that size, then scaled frame by frame
        filters += [f"scale={w1}:{h1}{to_bt709(v)}", "setsar=1", *_flip(clip), *static_eq, pinned_format(pic_fmt),
                    BT709_TAGS, *_conform(read, pc, out), *steady]
        side = nearest_even(math.ceil(math.hypot(w1, h1))) if turning else 0
        filters += [_rotate(rotation, local, side), sized(side, side)] if turning else [sized(w1, h1)]
    else:
        # the common zoom: one resample a frame, fit and zoom together
        filters += [*_conform(read, pc, out), sized(w1, h1) + to_bt709(v), "setsar=1"]
    filters += [pinned_format(pic_fmt), BT709_TAGS]
    label = g.add([f"{idx}:{v.index}"], filters, "v")
    if overlay:
        # placed by the overlay, whose ``t`` is the composed picture's: frame ``start`` is the clip's ``head``
        timeline = _clock(pc, out, "t", pc.head - pc.start)
        return (label, _position(clip.x, timeline, out.width, "overlay_w"),
                _position(clip.y, timeline, out.height, "overlay_h"))
    fmt = "yuva420p" if transparent_bg else out.pix_fmt
    canvas = g.add([], [f"color=c={'black@0' if transparent_bg else out.background}:s={out.width}x{out.height}"
                        f":r={rate(out.fps)}", pinned_format(fmt), BT709_TAGS, f"trim=end_frame={pc.frames}",
                        f"settb={fraction_text(1 / out.fps)}", "setpts=N"], "cv")
    blend = "yuv420p10" if out.pix_fmt.endswith("10le") else "yuv420"
    placed = g.add([canvas, label], [f"overlay=x={_position(clip.x, local, out.width, 'overlay_w')}"
                                     f":y={_position(clip.y, local, out.height, 'overlay_h')}"
                                     f":eval=frame:format={blend}:eof_action=pass",
                                     pinned_format(fmt), BT709_TAGS], "mv")
    return placed, 0, 0


def _moving_opacity(g: _Graph, pc: PlacedClip, out: _Out) -> list[str]:
    """A moving overlay's opacity, in its own chain at a steady size (``lut`` keeps the size it was
    configured with): a table for a constant, a table changed every frame for a curve."""
    kf = pc.clip.opacity
    if kf.constant == 1.0:
        return []
    if kf.constant is not None:
        return [_alpha_lut(kf.constant, None, None)]
    return _opacity_table(g, pc, out, 0)


def _opacity_table(g: _Graph, pc: PlacedClip, out: _Out, first: int) -> list[str]:
    """An eased opacity curve as an alpha table (``lut``) that ``sendcmd`` sets before each frame
    whose value changes, the values worked out here from the clip's own frame numbers (the model's
    curve): one table of 256 entries a frame, where a per-pixel expression (``geq``) would solve
    the curve for every pixel. The stream's frame ``i`` is at ``(first + i) / fps``; a command is
    timed half a frame before its frame, so no rounding puts it on the wrong one."""
    kf = pc.clip.opacity
    name = g.label("op")
    lines, last = [], None
    for i in range(pc.frames):
        value = round(kf.value_at(frames_to_seconds(pc.head + i, out.fps) + pc.offset), 6)
        if value != last:
            at = frames_to_seconds(first + i, out.fps) - Fraction(1, 2) / out.fps
            lines.append(f"{to_ffmpeg_seconds(max(Fraction(0), at))} lut@{name} a val*{num(value)};")
            last = value
    cmd = f"opacity_{pc.clip.id}.cmd"
    g.files[cmd] = "\n".join(lines) + "\n"
    first_value = kf.value_at(frames_to_seconds(pc.head, out.fps) + pc.offset)
    return [f"sendcmd=f={quote(cmd)}", f"lut@{name}=y=val:u=val:v=val:a=val*{num(round(first_value, 6))}"]


def _rotate(rotation: Keyframes, clock: str, side: int) -> str:
    """Clockwise degrees about the centre, into a transparent ``side``-pixel square."""
    return f"rotate=a={_curve(rotation, clock)}*PI/180:ow={side}:oh={side}:c=black@0"


def _position(kf: Keyframes, clock: str, extent: int, size_var: str) -> str:
    """The top-left coordinate that puts the picture's centre at the keyframed fraction."""
    return f"round({extent}*{_curve(kf, clock)}-{size_var}/2)"


SLATE_BACKGROUND = "0x3A3A3A"
SLATE_TEXT = "0xFF6060"


def _slate(g: _Graph, pc: PlacedClip, out: _Out, *, overlay: bool, transparent_bg: bool) -> tuple[str, int, int]:
    """A placeholder for a clip whose media is missing: a grey card naming it, in the clip's box
    (overlays) or the whole frame (video tracks: the source's shape is unknown)."""
    clip = pc.clip
    if overlay:  # a moving clip's slate stays where the clip starts
        scale = Fraction(clip.scale.value_at(Fraction(0)) if clip.scale is not None else 0.25)
        w, h = max(2, nearest_even(out.width * scale)), max(2, nearest_even(out.height * scale))
        x = round(Fraction(out.width) * Fraction(clip.x.value_at(Fraction(0))) - Fraction(w, 2))
        y = round(Fraction(out.height) * Fraction(clip.y.value_at(Fraction(0))) - Fraction(h, 2))
    else:
        w, h, x, y = out.width, out.height, 0, 0
    text_file = f"slate_{clip.id}.txt"
    g.files[text_file] = g.slates.get(clip.asset or "", "media missing")
    fmt = "yuva420p" if overlay or transparent_bg else out.pix_fmt
    draw = ":".join([f"textfile={quote(text_file)}", f"fontfile={quote(_font(g, ''))}", "expansion=none",
                     f"fontsize={max(8, h // 14)}", f"fontcolor={SLATE_TEXT}", "x=(w-text_w)/2", "y=(h-text_h)/2"])
    label = g.add([], [f"color=c={SLATE_BACKGROUND}:s={w}x{h}:r={rate(out.fps)}", pinned_format(fmt),
                       "drawtext=" + draw, BT709_TAGS, f"trim=end_frame={pc.frames}", f"settb={fraction_text(1 / out.fps)}",
                       "setpts=N"], "slate")
    return label, x, y


def _place_in_frame(w: int, h: int, x: int, y: int, out: _Out, transparent: bool) -> list[str]:
    """Crop what falls outside the frame, pad the rest with background: a full frame."""
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(out.width, x + w), min(out.height, y + h)
    color = "black@0" if transparent else out.background
    if x1 - x0 < 2 or y1 - y0 < 2:
        return [f"scale={out.width}:{out.height}", f"drawbox=x=0:y=0:w={out.width}:h={out.height}:color={color}:t=fill"]
    filters = []
    if (x0, y0, x1, y1) != (x, y, x + w, y + h):
        filters.append(f"crop={x1 - x0}:{y1 - y0}:{x0 - x}:{y0 - y}")
    if (x1 - x0, y1 - y0) != (out.width, out.height):
        filters.append(f"pad={out.width}:{out.height}:{x0}:{y0}:color={color}")
    return filters


def _gap(g: _Graph, frames: int, out: _Out, transparent: bool) -> str:
    color = "black@0" if transparent else out.background
    fmt = "yuva420p" if transparent else out.pix_fmt
    return g.add([], [f"color=c={color}:s={out.width}x{out.height}:r={rate(out.fps)}", pinned_format(fmt), BT709_TAGS,
                      f"trim=end_frame={frames}", f"settb={fraction_text(1 / out.fps)}", "setpts=N"], "gap")


def _video_tracks(g: _Graph, project: Project, timeline: Timeline, media: dict[str, MediaInfo],
                  out: _Out) -> str:
    """The bottom video track over the background; higher video tracks composited over it."""
    base: str | None = None
    for track, placed in zip(project.tracks, timeline.tracks):
        if track.kind != "video":
            continue
        transparent = base is not None
        label = _video_track(g, placed, media, out, timeline.frames, transparent)
        if base is None:
            base = label
        else:
            base = g.add([base, label], ["overlay=0:0:eof_action=pass", pinned_format(out.pix_fmt)], "vt")
    if base is None:
        base = _gap(g, timeline.frames, out, False)
    return base


def _video_track(g: _Graph, placed: tuple[PlacedClip, ...], media: dict[str, MediaInfo], out: _Out,
                 total: int, transparent: bool) -> str:
    pending: list[str] = []  # labels to concatenate, in order
    cursor = 0                # frames covered so far
    prev: PlacedClip | None = None
    for pc in placed:
        if pc.frames <= 0:
            continue
        label, _, _ = _clip_picture(g, pc, media.get(pc.clip.asset or ""), out, overlay=False,
                                    transparent_bg=transparent)
        tr = pc.clip.transition_in
        if tr is not None and prev is not None and pc.transition_frames > 0:
            d = pc.transition_frames
            pending = _crossfade(g, _concat(g, pending, out), cursor, label, pc.frames, d, TRANSITIONS[tr.type],
                                 out, transparent)
            cursor = pc.end
        else:
            if pc.start > cursor:
                pending.append(_gap(g, pc.start - cursor, out, transparent))
            pending.append(label)
            cursor = pc.end
        prev = pc
    if total > cursor:
        pending.append(_gap(g, total - cursor, out, transparent))
    return _concat(g, pending, out)


def _crossfade(g: _Graph, before: str, before_frames: int, incoming: str, incoming_frames: int, d: int,
               transition: str, out: _Out, transparent: bool) -> list[str]:
    """Two picture streams joined by a transition over their ``d`` overlapping frames: the labels to
    concatenate, in order. Only the overlap is blended: ``xfade`` works in 4:4:4, so ffmpeg converts
    all it is given there and back (bicubic chroma), and a clip's frames outside the overlap would
    differ, by up to 33 code values, from the same frames in a window or chunk without the
    transition; converting only the overlap is also most of a transition's cost gone."""
    head, tail = _cut(g, before, before_frames - d, before_frames, out)
    fading_in, rest = _cut(g, incoming, d, incoming_frames, out)
    seconds = to_ffmpeg_seconds(frames_to_seconds(d, out.fps))
    clock = [f"settb={fraction_text(1 / out.fps)}", "setpts=N"]
    if transition == "fade" and not transparent:
        # a plain crossfade of opaque pictures: the outgoing frames faded out in their alpha over
        # the incoming ones, in 4:2:0 (a third of xfade's cost: measured, 640x360 and 1080p)
        fading_out = g.add([tail], [pinned_format("yuva420p"), f"fade=t=out:st=0:d={seconds}:alpha=1"], "fo")
        faded = g.add([fading_in, fading_out], ["overlay=format=yuv420:eof_action=pass", *clock,
                                                pinned_format(out.pix_fmt), BT709_TAGS], "xf")
    else:
        # xfade's output carries no colour tags: pinned and tagged again, or the concat that follows
        # converts the next frames to match it
        faded = g.add([tail, fading_in], [f"xfade=transition={transition}:duration={seconds}:offset=0", *clock,
                                          pinned_format("yuva420p" if transparent else out.pix_fmt), BT709_TAGS],
                      "xf")
    return [label for label in (head, faded, rest) if label is not None]  # tail, fading_in: never None


def _cut(g: _Graph, label: str, at: int, frames: int, out: _Out) -> tuple[str | None, str | None]:
    """A picture stream of ``frames`` frames cut before frame ``at``: (the frames before it, the
    frames from it on); None for a side without frames."""
    if at <= 0:
        return None, label
    if at >= frames:
        return label, None
    whole, later = g.label("cut"), g.label("cut")
    g.chains.append(f"[{label}]split[{whole}][{later}]")
    return (g.add([whole], [f"trim=end_frame={at}"], "head"),
            g.add([later], [f"trim=start_frame={at}", f"settb={fraction_text(1 / out.fps)}", "setpts=N"], "tail"))


def _concat(g: _Graph, labels: list[str], out: _Out) -> str:
    """One stream of the labels in order, back on the output clock: ``concat`` hands out a
    1/1000000 time base, which ``xfade`` refuses next to a clip's 1/fps."""
    if len(labels) == 1:
        return labels[0]
    return g.add(labels, [f"concat=n={len(labels)}:v=1:a=0", f"settb={fraction_text(1 / out.fps)}", "setpts=N"],
                 "cat")


def _overlay_tracks(g: _Graph, project: Project, timeline: Timeline, media: dict[str, MediaInfo],
                    out: _Out, base: str) -> str:
    for track, placed in zip(project.tracks, timeline.tracks):
        if track.kind != "overlay":
            continue
        for pc in sorted(placed, key=lambda p: p.clip_index):  # later in the list is drawn on top
            if pc.frames <= 0:
                continue
            if pc.clip.is_text:
                base = _text(g, pc, out, base)
                continue
            label, x, y = _clip_picture(g, pc, media.get(pc.clip.asset or ""), out, overlay=True,
                                        transparent_bg=True)
            # a moving clip carries its opacity already (``_moving_opacity``)
            placed_label = g.add([label], [f"setpts=N+{pc.start}", None if pc.clip.has_motion else _opacity(g, pc, out)],
                                 "ov")
            base = g.add([base, placed_label], [f"overlay=x={x}:y={y}:eof_action=pass:repeatlast=0",
                                                pinned_format(out.pix_fmt)], "comp")
    return base


def _abs_points(pc: PlacedClip, points: tuple[tuple[Fraction, float], ...], fps: Fraction):
    """Keyframes (relative to the clip's start) on this timeline's clock."""
    origin = frames_to_seconds(pc.origin, fps) - pc.offset
    return [(origin + t, v) for t, v in points]


def _opacity(g: _Graph, pc: PlacedClip, out: _Out) -> str | None:
    """Alpha scaled by the clip's opacity curve, each piece by the cheapest exact filter.

    A flat piece is a lookup table on alpha (``lut``: one table read a pixel; the other planes
    pass as ``val``, unclipped); only a ramp needs ``geq``'s per-pixel expression, and only on
    its own frames (``enable``): on the reference edit a 0.5 s fade-in under a 16.5 s logo at 0.8
    cost 2.9 s of CPU as one ``geq`` over every frame, the whole render's margin over a
    hand-written command. Both truncate ``alpha × value`` the same way, so the pixels do not
    change. Pieces are half-open in the frame's time ``t`` (``gte``/``lt`` on the same bound), so
    a frame on a keyframe belongs to exactly one of them.
    """
    kf = pc.clip.opacity
    if kf.constant == 1.0:
        return None
    if kf.constant is not None:
        return _alpha_lut(kf.constant, None, None)
    if not kf.linear:  # eased: a table a frame (the stream's frame 0 is the clip's at ``start``)
        return ",".join(_opacity_table(g, pc, out, pc.start))
    points = _abs_points(pc, kf.points, out.fps)
    pieces = [(None, points[0][0], points[0][1], points[0][1])]
    pieces += [(t0, t1, v0, v1) for (t0, v0), (t1, v1) in zip(points, points[1:]) if t1 > t0]
    pieces.append((points[-1][0], None, points[-1][1], points[-1][1]))
    first, end = frames_to_seconds(pc.start, out.fps), frames_to_seconds(pc.end, out.fps)
    filters = []
    for lo, hi, v0, v1 in pieces:
        if (hi is not None and hi <= first) or (lo is not None and lo >= end):
            continue  # no frame of the clip is in it
        if v0 != v1:
            ramp = f"{num(v0)}+({num(v1 - v0)})*(T-{to_ffmpeg_seconds(lo)})/{to_ffmpeg_seconds(hi - lo)}"
            filters.append(f"geq=lum=lum(X\\,Y):cb=cb(X\\,Y):cr=cr(X\\,Y):a=alpha(X\\,Y)*({ramp})"
                           f":enable={_between(lo, hi)}")
        elif v0 != 1.0:
            filters.append(_alpha_lut(v0, lo, hi))
    return ",".join(filters) or None


def _between(lo: Fraction | None, hi: Fraction | None) -> str:
    """Timeline ``enable`` for ``lo <= t < hi`` (an open end where ``None``)."""
    terms = ([f"gte(t\\,{to_ffmpeg_seconds(lo)})"] if lo is not None else []) + \
            ([f"lt(t\\,{to_ffmpeg_seconds(hi)})"] if hi is not None else [])
    return "*".join(terms)


def _alpha_lut(value: float, lo: Fraction | None, hi: Fraction | None) -> str:
    enable = _between(lo, hi)
    return f"lut=y=val:u=val:v=val:a=val*{num(value)}" + (f":enable={enable}" if enable else "")


def _font(g: _Graph, clip_id: str) -> str:
    """The work-folder name of a clip's font file (the default font unless it names one)."""
    path = g.fonts.get(clip_id) or g.fonts.get("") or DEFAULT_FONT
    return g.links.setdefault(path, f"font{len(g.links)}{_suffix(path)}")


def _text(g: _Graph, pc: PlacedClip, out: _Out, base: str) -> str:
    clip = pc.clip
    text_file = f"text_{clip.id}.txt"
    g.files[text_file] = clip.text or ""
    font_name = _font(g, clip.id)
    size = max(1, round(Fraction(clip.font_size) * out.scale_y))
    if clip.x.constant is not None and clip.y.constant is not None:
        cx: int | str = round(Fraction(out.width) * Fraction(clip.x.constant))
        cy: int | str = round(Fraction(out.height) * Fraction(clip.y.constant))
    else:  # keyframed: on the timeline's clock, like the opacity
        clock = _clock(pc, out, "t", pc.head - pc.start)
        cx, cy = f"round({out.width}*{_curve(clip.x, clock)})", f"round({out.height}*{_curve(clip.y, clock)})"
    alpha = piecewise_linear(_abs_points(pc, clip.opacity.points, out.fps), "t") if clip.opacity.linear else \
        _curve(clip.opacity, _clock(pc, out, "t", pc.head - pc.start))  # eased: on the clip's frame clock
    color = "0x" + clip.color[1:].upper()
    opts = [f"textfile={quote(text_file)}", f"fontfile={quote(font_name)}", "expansion=none",
            f"fontsize={size}", f"fontcolor={color}", f"alpha={alpha}",
            f"x={cx}-text_w/2", f"y={cy}-text_h/2", f"enable=between(n\\,{pc.start}\\,{pc.end - 1})"]
    return g.add([base], ["drawtext=" + ":".join(opts)], "txt")


def _captions(g: _Graph, project: Project, captions: CaptionSources, out: _Out, base: int, frames: int,
              video: str) -> str:
    """Each captions track burnt in over everything below it, timed from this stream's first
    frame (absolute frame ``base``): an ASS script in the work folder, its fonts in a folder."""
    for path, track in project.caption_tracks():
        chain = captions.fonts.get(track.id, ())
        script = build_ass(track, track_cues(project, track, path, captions.files), chain, width=out.width,
                           height=out.height, scale_y=out.scale_y, fps=out.fps, base=base, frames=frames)
        if script is None:
            continue
        name = f"captions_{track.id}.ass"
        g.files[name] = script
        for face in chain:
            g.links.setdefault(face.file, f"{CAPTION_FONTS_DIR}/{face.file.rsplit('/', 1)[-1]}")
        video = g.add([video], [f"ass=filename={quote(name)}:fontsdir={CAPTION_FONTS_DIR}:shaping=complex",
                                f"format={out.pix_fmt}"], "cap")
    return video


def _sidecars(project: Project, captions: CaptionSources, fps: Fraction, frames: int) -> dict[str, str]:
    """SRT and VTT of every captions track's cues as rendered (stored beside a job's output)."""
    cues = [cue for path, track in project.caption_tracks() for cue in track_cues(project, track, path, captions.files)]
    return sidecars(sorted(cues, key=lambda c: (c.start, c.end)), fps, frames)


def _suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name[name.rfind("."):].lower() if "." in name else ".ttf"


# ---------------------------------------------------------------- sound

def _atempo(speed: Fraction) -> list[str]:
    """atempo takes 0.5..100 per instance: chain halves for slower speeds (pitch is kept)."""
    if speed == 1:
        return []
    filters = []
    s = speed
    while s < Fraction(1, 2):
        filters.append("atempo=0.5")
        s *= 2
    filters.append(f"atempo={num(s)}")
    return filters


def _audio(g: _Graph, timeline: Timeline, media: dict[str, MediaInfo], out: _Out, base: int,
           window: tuple[int, int], ducks: dict[int, DuckPlan] | None = None) -> None:
    """Every clip's sound for the output frames ``window``, as a few continuous lanes (``sound``).

    Sample positions are computed from absolute frames (``base`` is the timeline's first frame
    in the full render), so a window's samples line up with the full render's.
    """
    sr = out.sample_rate

    def at(frame: int) -> int:  # samples from the timeline's start to an (absolute) frame
        return frames_to_samples(base + frame, out.fps, sr) - frames_to_samples(base, out.fps, sr)

    fmt = f"aformat=sample_fmts=fltp:sample_rates={sr}:channel_layouts=stereo"
    total = at(timeline.frames)
    sounding: list[tuple[PlacedClip, MediaInfo, tuple[PlacedClip, ...], int, int]] = []
    for ti, placed in enumerate(timeline.tracks):
        for i, pc in enumerate(placed):
            clip = pc.clip
            if clip.is_text or pc.frames <= 0 or clip.muted or clip.volume.constant == 0 or clip.freeze_at is not None:
                continue  # a freeze frame is silent
            info = media.get(clip.asset or "")
            if info is None or info.audio is None:
                continue  # no sound, or a slate's silence
            sounding.append((pc, info, placed, i, ti))
    spans = [(at(pc.start), at(pc.end)) for pc, *_ in sounding]
    lanes = assign_lanes(spans)
    feeds = _sound_feeds(g, [(_forward(g, pc), info) for pc, info, *_ in sounding], out)
    # each lane: its clips in order, each padded with the silence up to the next one (or the end)
    by_lane: dict[int, list[int]] = {}
    for k in sorted(range(len(sounding)), key=lambda k: (spans[k][0], k)):
        by_lane.setdefault(lanes[k], []).append(k)
    streams = []
    for lane in sorted(by_lane):
        members = by_lane[lane]
        parts = []
        if spans[members[0]][0] > 0:
            parts.append(g.add([], [f"anullsrc=r={sr}:cl=stereo", fmt, f"atrim=end_sample={spans[members[0]][0]}"],
                               "sil"))
        for j, k in enumerate(members):
            pc, info, placed, i, ti = sounding[k]
            clip = pc.clip
            n = spans[k][1] - spans[k][0]
            after = (spans[members[j + 1]][0] if j + 1 < len(members) else total) - spans[k][1]
            feed, head_filters = feeds[k]
            tempo = _atempo(clip.rate) if clip.ramp is None else _ramp_tempo(g, pc, out)
            filters: list[str | None] = [*head_filters, *tempo, fmt, "apad", f"atrim=end_sample={n}",
                                         "areverse" if clip.reverse else None, f"asetpts=N/{sr}/TB"]
            kf = clip.volume
            if kf.constant is not None:
                filters.append(None if kf.constant == 1 else f"volume={num(kf.constant)}")
            else:
                # keyframes count from the clip's start; this part of it starts ``head`` frames in
                head = frames_to_seconds(pc.head, out.fps) + pc.offset
                filters.append(f"volume={keyframe_expr([(t - head, v) for t, v in kf.points], kf.eases, 't')}:eval=frame")
            filters += _crossfades(placed, i, pc, out)
            # a ducked track's clip, lowered while the named tracks sound: its gain is a function
            # of absolute time (the clip's first sample is absolute sample ``base + start``)
            offset = Fraction(frames_to_samples(base + pc.start, out.fps, sr), sr)
            filters.append(duck_filter((ducks or {}).get(ti), offset))
            filters.append(f"apad=pad_len={after}" if after > 0 else None)
            parts.append(g.add([feed], filters, "a"))
        streams.append(parts[0] if len(parts) == 1 else
                       g.add(parts, [f"concat=n={len(parts)}:v=0:a=1", f"asetpts=N/{sr}/TB"], "lane"))
    lead = frames_to_samples(window[0], out.fps, sr) - frames_to_samples(base, out.fps, sr)
    length = frames_to_samples(window[1], out.fps, sr) - frames_to_samples(window[0], out.fps, sr)
    trim = f"atrim=start_sample={lead}:end_sample={lead + length}" if (lead, length) != (0, total) else None
    if not streams:
        streams = [g.add([], [f"anullsrc=r={sr}:cl=stereo", f"atrim=end_sample={total}"], "bed")]
    mix = None if len(streams) == 1 else f"amix=inputs={len(streams)}:duration=first:dropout_transition=0:normalize=0"
    g.chains.append(chain(streams, [mix, f"atrim=end_sample={total}", trim, "asetpts=N/SR/TB" if trim else None, fmt],
                          "aout"))


RAMP_STEP = Fraction(1, 50)  # source seconds between a ramp's tempo changes


def _ramp_tempo(g: _Graph, pc: PlacedClip, out: _Out) -> list[str]:
    """A speed ramp's sound: ``rubberband`` (pitch kept) told the ramp's speed every ``RAMP_STEP``
    source seconds by ``asendcmd`` from a file, so the sound follows the picture's time map; the
    lane's padding and trim then make it exactly as long as the picture."""
    clip = pc.clip
    ramp = clip.ramp
    assert ramp is not None and isinstance(clip.speed, Keyframes)
    lead = frames_to_seconds(pc.head, out.fps) + pc.offset
    first = ramp.source(float(lead))
    span = ramp.source(float(lead + frames_to_seconds(pc.frames, out.fps))) - first
    name = g.label("rb")
    lines = []
    step = float(RAMP_STEP)
    for i in range(int(span / step) + 1):
        # the speed at the timeline moment the middle of this bit of source is shown
        middle = ramp.timeline(first + (i + 0.5) * step)
        lines.append(f"{i * step:.6f} rubberband@{name} tempo {clip.speed.value_at(Fraction(middle)):.6f};")
    cmd = f"ramp_{clip.id}.cmd"
    g.files[cmd] = "\n".join(lines) + "\n"
    return [f"asendcmd=f={quote(cmd)}", f"rubberband@{name}=tempo={num(clip.speed.value_at(lead))}"]


def _sound_feeds(g: _Graph, sounds: list[tuple[PlacedClip, MediaInfo]], out: _Out) -> list[tuple[str, list[str]]]:
    """For each clip with sound: the stream its sound comes from and the filters that cut its part
    out of it, starting at its first sample on a 0-based clock.

    Sound is read from audio-only inputs, one per source run (``sound.source_runs``), decoded once
    and split among the run's clips. Each input is seeked ``PREROLL`` before the run's first
    sample and the clips are cut on the stream's own timestamps: an audio input seek may land a
    codec frame late (measured: 478 samples past a 0.5 s seek in a 44.1 kHz AAC file), so where it
    lands must not decide which sample a clip starts with.
    """
    sr = out.sample_rate
    feeds: list[tuple[str, list[str]]] = [("", [])] * len(sounds)
    reads = []
    for pc, _ in sounds:
        seek, preroll = _seek(pc, out)
        point = seek + preroll  # the sound's first source second
        if pc.clip.ramp is None:
            reads.append((point, point + frames_to_seconds(pc.frames, out.fps) * pc.clip.rate))
        else:
            lead = frames_to_seconds(pc.head, out.fps) + pc.offset
            reads.append((point, point + _source_point(pc, out, lead + frames_to_seconds(pc.frames, out.fps))
                          - _source_point(pc, out, lead)))
    groups: dict[tuple[str, int], list[int]] = {}
    for k, (_, info) in enumerate(sounds):
        assert info.audio is not None
        groups.setdefault((info.path, info.audio.index), []).append(k)
    for (_, stream), members in groups.items():
        for run in source_runs([reads[k] for k in members]):
            ks = [members[r] for r in run]
            first = max(Fraction(0), min(reads[k][0] for k in ks) - PREROLL)
            last = max(reads[k][1] for k in ks)
            pc0, info = sounds[ks[0]]
            idx = len(g.inputs)
            g.inputs.append(PlanInput(index=idx, clip=pc0.clip.id, asset=pc0.clip.asset or "", path=info.path,
                                      kind=info.kind, args=["-ss", to_ffmpeg_seconds(first), "-t",
                                                            to_ffmpeg_seconds(last - first + SEEK_MARGIN), "-vn"]))
            if len(ks) == 1:
                labels = [f"{idx}:{stream}"]
            else:
                labels = [g.label("s") for _ in ks]
                g.chains.append(chain([f"{idx}:{stream}"], [f"asplit={len(ks)}"], "][".join(labels)))
            for k, label in zip(ks, labels):
                # cut on the source's timestamps (start/end compare them; start_sample/end_sample
                # count samples), put the cut-in point at 0 and let aresample pad what is missing
                # before the first decoded sample (a decoder's first frame may start a few samples
                # late: 22 in a 44.1 kHz AAC file, measured): a window starting inside a clip then
                # gets the same samples as the full render
                a = to_ffmpeg_seconds(reads[k][0] - first)
                b = to_ffmpeg_seconds(reads[k][1] - first + SEEK_MARGIN)
                feeds[k] = (label, [f"atrim=start={a}:end={b}", f"asetpts=PTS-{a}/TB",
                                    f"aresample={sr}:async=1:first_pts=0"])
    return feeds


def _crossfades(placed: tuple[PlacedClip, ...], i: int, pc: PlacedClip, out: _Out) -> list[str]:
    """Linear fades over the overlap of a video-track transition, on both sides."""
    if pc.track_kind != "video":
        return []
    filters = []
    if pc.clip.transition_in is not None and pc.transition_frames > 0 and i > 0:
        d = frames_to_seconds(pc.transition_frames, out.fps)
        filters.append(f"afade=t=in:st=0:d={to_ffmpeg_seconds(d)}")
    nxt = placed[i + 1] if i + 1 < len(placed) else None
    if nxt is not None and nxt.clip.transition_in is not None and nxt.transition_frames > 0:
        d = frames_to_seconds(nxt.transition_frames, out.fps)
        st = frames_to_seconds(pc.frames - nxt.transition_frames, out.fps)
        filters.append(f"afade=t=out:st={to_ffmpeg_seconds(st)}:d={to_ffmpeg_seconds(d)}")
    return filters
