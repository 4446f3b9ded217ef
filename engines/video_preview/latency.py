"""How long a preview will take on this machine: a cost model, calibrated once per profile.

The window's own timeline is counted into three kinds of work:
- **encode**: output megapixels (frames x size); its cost per megapixel depends on the profile's
  encoder and preset, so it is *calibrated per profile and encoder*;
- **filters**: megapixels decoded (source size x frames decoded, seek pre-roll included; a still
  image once), scaled (a still once), cross-faded, drawn (text, slates), colour-filtered and
  alpha-mixed by an opacity ramp (``geq``, by far the dearest per pixel, on a ramp's own frames
  only), each at its own cost per megapixel (``FILTER_MS_PER_MPX``, measured on a 2-core box:
  filter costs do not depend on the profile); a clip's mask (steady or keyframed), blurred
  canvas and blend mode are terms of their own (``_looks_work``);
- **layers**: frames of every overlay composited, at a small constant cost per frame
  (``overlay`` touches only the overlay's box).

    ms = overhead_ms + per_input_ms * inputs + encode_mpx * encode_ms_per_mpx
         + sum(filter_mpx[k] * FILTER_MS_PER_MPX[k]) + layer_frames * LAYER_MS

``cutlite doctor --calibrate`` renders a reference clip at two lengths per profile (median of
three runs each), fits ``overhead_ms`` and ``encode_ms_per_mpx`` through the two points, and
stores them in ``CUTLITE_HOME/calibration.json``; until then ``DEFAULTS`` apply (measured the
same way on a 2-core cloud VM with libx264).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from engines.ffmpeg import samples
from engines.ffmpeg.probe import MediaInfo, probe
from engines.ffmpeg.profiles import get_profile
from engines.model.project import Project, load_project
from engines.model.timebase import snap_to_frame
from engines.model.timeline import PlacedClip, Timeline, place_project
from engines.model.transitions import TRANSITIONS
from engines.planning.gathered import Sources
from engines.planning.masks import animated as mask_animated
from engines.planning.masks import separable
from engines.planning.plan import build_plan
from engines.planning.reading import PREROLL
from engines.planning.styled_text import is_styled
from engines.rendering.renderer import Renderer
from engines.settings import home as cutlite_home

CALIBRATION_FILE = "calibration.json"
CALIBRATION_VERSION = 2

FILTER_MS_PER_MPX: dict[str, float] = {
    "decode": 0.6,       # video pixels per decoded frame (the scale from them included)
    "image": 6.4,        # a still image, decoded once (PNG: inflate)
    "scale": 0.4,        # each clip's picture in its box
    "transition": 1.3,   # each clip's frames inside a crossfade's overlap (fade + overlay), whole frame
    "text": 0.2,         # drawtext, per frame it shows on
    # a styled text (libass, ``planning/styled_text.py``), per frame it shows on: the text itself
    # (~2x drawtext), and each of its stroke, box and shadow on top (measured at 1080p, CPU time:
    # plain 0.12-0.30, libass alone 0.41-0.43, + stroke 0.83-0.94, + box 1.09-1.35, + blurred
    # shadow 0.95-1.26, all three 2.3-2.8 ms/Mpx; docs/performance.md)
    "text_styled": 0.4,
    "text_layers": 0.6,
    "effects": 0.1,      # per effect of cost 1 (a colour filter's eq; each effect's weight says how many:
                         # bench/bench_effects.py, docs/performance.md "Effects")
    "opacity": 34.0,     # an opacity ramp: geq evaluates an expression per pixel (flat pieces: a lut, as effects)
    "slate": 0.5,        # a placeholder card (colour + drawtext)
    # libass over every frame of the window, per captions track with cues in it (1080p, word
    # highlights: ~0.3 s per 300 frames with its set-up, measured); ducking is a gain on the
    # audio and costs nothing measurable next to the picture, so it is not a term
    "captions": 0.3,
    # clip-level looks (bench/bench_looks.py: CPU seconds under load, brought to this table's
    # scale by the same run's plain clip): a steady mask (drawn once; the alpha merge and the
    # composite over what is below), per frame of the clip's picture
    "mask": 1.1,
    "mask_animated": 1.4,   # a keyframed mask drawn as a row and a column (``masks.separable``)
    "mask_geq": 86.0,       # any other keyframed mask: geq draws it every frame, per pixel of the picture
    # a blurred canvas, per frame of the whole frame: the small blur and its scale up (0.25), and
    # the encoder's extra work on bars that now hold a picture (1.45, at social_1080p)
    "canvas_blur": 1.7,
    "blend": 2.4,           # a blend mode: the clip's frames through RGB and back, the whole frame
}
LAYER_MS = 0.05          # per frame of each overlay composited
XFADE_WEIGHT = 3.0       # other transitions (xfade: to 4:4:4 and back): ~3x a crossfade's cost, measured


@dataclass(frozen=True)
class Throughput:
    overhead_ms: float        # process start, graph setup, muxing, read-back: per render
    per_input_ms: float       # opening and seeking one input
    encode_ms_per_mpx: float  # the profile's encoder on this machine


# `cutlite doctor --calibrate` on a 2-core cloud VM (ffmpeg 9.0, libx264), 2026-11-25. The two
# delivery profiles are not previews; their figures are rough, for completeness. draft_360p's cost
# per input (its proxies, one filter thread) from bench_preview's two 5 s windows, 6 and 3 inputs:
# ~3 ms each, 2026-12-01.
DEFAULTS: dict[str, Throughput] = {
    "draft_360p": Throughput(31.0, 4.0, 2.64),
    "draft_480p": Throughput(47.0, 10.0, 3.67),
    "preview_720p": Throughput(86.0, 10.0, 4.52),
    "social_1080p": Throughput(150.0, 15.0, 10.0),
    "master_4k": Throughput(300.0, 20.0, 60.0),
}


@dataclass(frozen=True)
class Work:
    frames: int
    inputs: int
    encode_mpx: float
    filter_mpx: dict[str, float]  # kind -> megapixels
    layer_frames: int

    def filters_ms(self) -> float:
        return sum(v * FILTER_MS_PER_MPX[k] for k, v in self.filter_mpx.items())


@dataclass(frozen=True)
class Estimate:
    ms: float
    profile: str
    encoder: str
    source: str          # "calibrated" | "default"
    work: Work
    throughput: Throughput

    def to_dict(self) -> dict[str, Any]:
        w = self.work
        return {"ms": round(self.ms), "profile": self.profile, "encoder": self.encoder, "source": self.source,
                "frames": w.frames, "inputs": w.inputs, "encode_mpx": round(w.encode_mpx, 2),
                "filter_mpx": {k: round(v, 2) for k, v in w.filter_mpx.items() if v},
                "layer_frames": w.layer_frames, "throughput": asdict(self.throughput)}


def _ramp_frames(points: tuple[tuple[Fraction, float], ...], frames: int, fps: Fraction) -> int:
    """Frames of a clip (from its start) inside the ramps of its opacity curve, where ``geq`` runs."""
    seconds = sum(max(Fraction(0), min(t1, frames / fps) - max(t0, Fraction(0)))
                  for (t0, v0), (t1, v1) in zip(points, points[1:]) if v0 != v1)
    return min(frames, max(0, round(Fraction(seconds) * fps)))


def measure_work(timeline: Timeline, media: dict[str, MediaInfo], width: int, height: int,
                 inputs: int, captions: int = 0) -> Work:
    """The work of rendering ``timeline`` (a window's own) at ``width`` x ``height``, with
    ``captions`` captions tracks burnt in."""
    fps = timeline.fps
    out_px = width * height / 1e6
    f: dict[str, float] = {k: 0.0 for k in FILTER_MS_PER_MPX}
    f["captions"] = captions * timeline.frames * out_px
    layers = 0
    bottom = next((t[0].track_index for t in timeline.tracks if t and t[0].track_kind == "video"), None)
    for track in timeline.tracks:
        for i, pc in enumerate(track):
            clip, n = pc.clip, pc.frames
            if n <= 0 or pc.track_kind == "audio":
                continue
            overlay = pc.track_kind == "overlay"
            box = out_px * (float(clip.scale.value_at(Fraction(0)) if clip.scale is not None else 0.25) ** 2 if overlay else 1.0)
            if clip.is_text:
                if is_styled(clip):
                    f["text_styled"] += n * out_px
                    f["text_layers"] += n * out_px * sum(x is not None for x in (clip.stroke, clip.box, clip.shadow))
                else:
                    f["text"] += n * out_px
                continue
            info = media.get(clip.asset or "")
            if info is None:
                f["slate"] += n * box
            elif info.video is not None:
                src_px = info.video.width * info.video.height / 1e6
                if info.kind == "image":
                    f["image"] += src_px  # decoded, fitted and coloured once, then cloned
                else:
                    seconds = Fraction(n) / fps * clip.rate + (PREROLL if pc.head or pc.offset else 0)
                    f["decode"] += float(seconds * (info.video.fps or fps)) * src_px
            still = info is not None and info.kind == "image"
            f["scale"] += box if still else n * box
            layers += n if overlay else 0
            nxt = track[i + 1] if i + 1 < len(track) else None
            for joined in (pc, nxt):  # its head in its own transition, its tail in the next clip's
                if joined is not None and joined.transition_frames and joined.clip.transition_in is not None:
                    kind = TRANSITIONS[joined.clip.transition_in.type]
                    # the alpha fade is drawn on the opaque bottom track only; elsewhere it is an xfade
                    weight = kind.cost if pc.track_index == bottom or not kind.alpha_fade else XFADE_WEIGHT
                    f["transition"] += joined.transition_frames * out_px * weight
            f["effects"] += sum(e.weight for e in clip.filters) * n * box
            _looks_work(f, pc, media, n, box, out_px)
            if clip.opacity.constant is None:
                ramps = _ramp_frames(clip.opacity.points, n, fps)
                f["opacity"] += ramps * box
                f["effects"] += (n - ramps) * box  # the flat pieces: a lookup table
            elif clip.opacity.constant != 1.0:
                f["effects"] += n * box
    return Work(timeline.frames, inputs, timeline.frames * out_px, f, layers)


def _looks_work(f: dict[str, float], pc: PlacedClip, media: dict[str, MediaInfo], n: int, box: float,
                out_px: float) -> None:
    """A clip's mask, canvas and blend mode, counted into ``f``."""
    clip = pc.clip
    if clip.mask is not None:
        kind = "mask" if not mask_animated(clip.mask) else "mask_animated" if separable(clip.mask) else "mask_geq"
        f[kind] += n * box
    if clip.canvas is not None and clip.canvas.type == "blur":
        f["canvas_blur"] += n * out_px
    elif clip.canvas is not None and clip.canvas.type == "image":
        info = media.get(clip.canvas.asset)
        if info is not None and info.video is not None:
            f["image"] += info.video.width * info.video.height / 1e6  # decoded and fitted once
    if clip.blend != "normal":
        f["blend"] += n * out_px


class LatencyModel:
    def __init__(self, table: dict[str, dict[str, Any]] | None = None, ffmpeg_version: str | None = None) -> None:
        self.table = table or {}     # "profile/encoder" -> calibrated Throughput fields + samples
        self.ffmpeg_version = ffmpeg_version

    @staticmethod
    def path() -> Path:
        return cutlite_home() / CALIBRATION_FILE

    @classmethod
    def load(cls, ffmpeg_version: str | None = None) -> "LatencyModel":
        """The calibration stored under CUTLITE_HOME, or an empty one (defaults) if there is none,
        it is unreadable, or it was measured with another ffmpeg than ``ffmpeg_version``."""
        try:
            doc = json.loads(cls.path().read_text())
            if doc.get("version") == CALIBRATION_VERSION and (
                    ffmpeg_version is None or doc.get("ffmpeg_version") == ffmpeg_version):
                return cls(dict(doc.get("profiles") or {}), doc.get("ffmpeg_version"))
        except (OSError, ValueError, AttributeError, TypeError):
            pass
        return cls()

    def save(self) -> Path:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": CALIBRATION_VERSION, "ffmpeg_version": self.ffmpeg_version,
                                   "profiles": self.table}, indent=2, sort_keys=True))
        os.replace(tmp, path)
        return path

    def throughput(self, profile: str, encoder: str) -> tuple[Throughput, str]:
        row = self.table.get(f"{profile}/{encoder}")
        try:
            return Throughput(float(row["overhead_ms"]), float(row["per_input_ms"]),
                              float(row["encode_ms_per_mpx"])), "calibrated"
        except (KeyError, TypeError, ValueError):  # none, or a damaged row: the defaults
            return DEFAULTS.get(profile, DEFAULTS["preview_720p"]), "default"

    def estimate(self, work: Work, profile: str, encoder: str) -> Estimate:
        tp, source = self.throughput(profile, encoder)
        ms = (tp.overhead_ms + tp.per_input_ms * work.inputs + work.encode_mpx * tp.encode_ms_per_mpx
              + work.filters_ms() + work.layer_frames * LAYER_MS)
        return Estimate(ms, profile, encoder, source, work, tp)

    def record(self, profile: str, encoder: str, tp: Throughput, samples: list[dict[str, Any]]) -> None:
        self.table[f"{profile}/{encoder}"] = {**asdict(tp), "samples": samples,
                                              "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


# ---------------------------------------------------------------- calibration

@dataclass
class CalibrationRun:
    seconds: Fraction
    work: Work
    wall_ms: list[float] = field(default_factory=list)


def fit_throughput(short: CalibrationRun, long: CalibrationRun, per_input_ms: float) -> Throughput:
    """Overhead and encode cost through two points (median wall times, the modelled filter and
    layer costs taken off first); neither is ever negative."""
    def rest(run: CalibrationRun) -> float:
        w = run.work
        return statistics.median(run.wall_ms) - w.filters_ms() - w.layer_frames * LAYER_MS - per_input_ms * w.inputs

    r1, r2 = rest(short), rest(long)
    e1, e2 = short.work.encode_mpx, long.work.encode_mpx
    slope = max((r2 - r1) / (e2 - e1), 0.05)
    overhead = r1 - e1 * slope
    if overhead < 0:  # noise: keep the cost honest through the long run, overhead at zero
        overhead, slope = 0.0, max(r2 / e2, 0.05)
    return Throughput(round(overhead, 1), per_input_ms, round(slope, 4))


REFERENCE_WINDOWS = (Fraction(1), Fraction(6))  # seconds: the two calibration points


def reference_project(source: Path) -> Project:
    """The calibration project: one 1080p30 editor timeline over one clip with its sound."""
    return load_project({"schema_version": 1, "id": "calibration", "tenant": "calibration", "env": "dev",
                         "settings": {"width": 1920, "height": 1080, "fps": 30},
                         "assets": {"ref": {"path": str(source)}},
                         "tracks": [{"id": "main", "kind": "video", "clips": [
                             {"id": "c1", "asset": "ref", "start": 0, "source_in": 0, "source_out": 8}]}]})


def calibrate(render: Renderer, profiles: list[str], *, repeats: int = 3,
              report: Callable[[str], None] | None = None) -> LatencyModel:
    """Measure each profile's overhead and encode cost on this machine; store them under CUTLITE_HOME.

    The reference clip is made at the size the profile's proxies have, as previews read proxies.
    """
    model = LatencyModel.load()
    model.ffmpeg_version = render.runner.version
    with tempfile.TemporaryDirectory(prefix="cutlite-calibrate-") as tmp:
        folder = Path(tmp)
        for name in profiles:
            profile = get_profile(name)
            decision = render.decide(profile, None)
            width, height = profile.output_size(1920, 1080)
            source = samples.make_video(folder / f"ref_{name}.mp4", seconds=9, width=width, height=height,
                                        pattern="testsrc2", runner=render.runner)
            project = reference_project(source)
            media = {"ref": probe(source)}
            fps = profile.output_fps(project.settings.fps)
            runs = []
            for seconds in REFERENCE_WINDOWS:
                window = (snap_to_frame(Fraction(1), fps), snap_to_frame(1 + seconds, fps))
                plan = build_plan(project, Sources(media=media), profile, decision, window=window)
                timeline = place_project(project).at_rate(fps).window(*window)[0]
                run = CalibrationRun(seconds, measure_work(timeline, media, plan.width, plan.height, len(plan.inputs)))
                render.render(plan, folder / "warm-up.mp4")  # caches and page cache warm, not timed
                for _ in range(repeats):
                    t = time.monotonic()
                    render.render(plan, folder / "out.mp4")
                    run.wall_ms.append((time.monotonic() - t) * 1000)
                runs.append(run)
            tp = fit_throughput(runs[0], runs[1], DEFAULTS[name].per_input_ms)
            model.record(name, decision.encoder, tp,
                         [{"seconds": str(r.seconds), "encode_mpx": round(r.work.encode_mpx, 2),
                           "wall_ms": [round(x) for x in r.wall_ms]} for r in runs])
            if report:
                report(f"{name}/{decision.encoder}: overhead {tp.overhead_ms:.0f} ms, "
                       f"encode {tp.encode_ms_per_mpx:.2f} ms/Mpx")
    model.save()
    return model
