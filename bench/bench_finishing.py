"""Finishing bench: what captions and loudness add to a social_1080p render, in the same run.

The reference project (30 s at 1920x1080: a main track with a crossfade, a 1.5x clip with a
colour filter, a logo and a title, a music bed) is rendered three ways, alternately, ``--rounds``
times so machine noise hits all three:
- **base**: ``settings.loudness: "off"``, no captions track;
- **captions**: the same plus a captions track (a cue every 2 s, 3-4 words each with word
  timings, so the highlight changes several times a second; outline; CJK in one cue);
- **loudness**: the base with the profile's loudness target: the mix is measured once (one
  audio-only pass to WAV and ``ebur128``), normalised by one gain, and the output measured
  again for its meta, as a job does.
Each figure is end to end (plan + measure + render), single pass; the ratios are of medians, of
wall time and of CPU time (this process and its ffmpeg children: steadier than wall time on a
shared machine).
Targets (issue 16): captions at most +10 %, loudness at most +5 %.

    python bench/bench_finishing.py [--rounds 3] [--seconds 30]
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.ffmpeg import samples  # noqa: E402
from engines.ffmpeg.runner import FFmpegRunner  # noqa: E402
from engines.rendering.loudness import measure_file  # noqa: E402
from engines.video_render.service import RenderService  # noqa: E402

OUT = ROOT / "bench" / "out" / "finishing"
WORDS = ["summer", "is", "here", "every", "wave", "brings", "light", "sale", "ends", "soon", "today", "now"]


def reference_project(seconds: int) -> dict[str, Any]:
    s = seconds
    return {
        "schema_version": 1, "id": "bench-finishing", "tenant": "bench", "env": "dev",
        "settings": {"width": 1920, "height": 1080, "fps": 30, "sample_rate": 48000, "loudness": "off"},
        "assets": {"beach": {"path": "media/beach.mp4"}, "city": {"path": "media/city.mp4"},
                   "logo": {"path": "media/logo.png"}, "music": {"path": "media/music.m4a"}},
        "tracks": [
            {"id": "main", "kind": "video", "clips": [
                {"id": "c1", "asset": "beach", "start": 0, "source_in": 0, "source_out": s // 3},
                {"id": "c2", "asset": "city", "start": s // 3 - 1, "source_in": 0, "source_out": (s - s // 3 + 1) * 1.5,
                 "speed": 1.5, "transition_in": {"type": "crossfade", "duration": 1},
                 "filters": [{"type": "color", "brightness": 0.05, "contrast": 1.1, "saturation": 1.2}]},
            ]},
            {"id": "over", "kind": "overlay", "clips": [
                {"id": "l1", "asset": "logo", "start": 1, "duration": s - 2, "x": 0.85, "y": 0.08, "scale": 0.15},
                {"id": "t1", "text": "Summer Sale", "start": 1, "duration": 4, "x": 0.5, "y": 0.2, "font_size": 72},
            ]},
            {"id": "bed", "kind": "audio", "clips": [
                {"id": "m1", "asset": "music", "start": 0, "source_in": 0, "source_out": s,
                 "volume": [[0, 0], [1, 0.3], [s - 2, 0.3], [s, 0]]}]},
        ],
    }


def with_captions(doc: dict[str, Any], seconds: int) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    clips = []
    for i in range(seconds // 2):
        words = [WORDS[(i + k) % len(WORDS)] for k in range(3 + i % 2)]
        text = " ".join(words) + (" 夏天" if i % 5 == 4 else "")
        step = 1.8 / len(words)
        clips.append({"id": f"cue{i}", "start": 2 * i, "duration": 1.8, "text": text,
                      "words": [{"text": w, "start": round(k * step, 3), "end": round((k + 1) * step, 3)}
                                for k, w in enumerate(words)]})
    doc["tracks"].append({"id": "subs", "kind": "captions", "style": {"font_size": 64, "outline": 4,
                                                                     "highlight_color": "#FFD400"}, "clips": clips})
    return doc


def with_loudness(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc["settings"]["loudness"] = "profile"
    return doc


def make_media(folder: Path, runner: FFmpegRunner, seconds: int) -> None:
    media = folder / "media"
    if (media / f"done-{seconds}").exists():
        return
    media.mkdir(parents=True, exist_ok=True)
    samples.make_video(media / "beach.mp4", seconds=seconds, width=1280, height=720, pattern="testsrc2", runner=runner)
    samples.make_video(media / "city.mp4", seconds=int(seconds * 1.5) + 2, width=1280, height=720,
                       pattern="smptehdbars", runner=runner)
    samples.make_image(media / "logo.png", width=256, height=256, color="orange", runner=runner)
    samples.make_tone(media / "music.m4a", seconds=seconds + 1, tone_hz=220, runner=runner)
    (media / f"done-{seconds}").touch()


def cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def render_once(service: RenderService, project: Path, output: Path, normalise: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one end-to-end render."""
    t, c = time.monotonic(), cpu_seconds()
    plan = service.plan_project(project, "social_1080p", "cpu", normalise=normalise)
    service.render(plan, output)
    if normalise:
        measure_file(service.runner, output)  # the job's output measurement for its meta
    return time.monotonic() - t, cpu_seconds() - c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=30, help="length of the reference project")
    args = ap.parse_args()
    service = RenderService()
    OUT.mkdir(parents=True, exist_ok=True)
    make_media(OUT, service.runner, args.seconds)
    base = reference_project(args.seconds)
    variants = {"base": (base, False), "captions": (with_captions(base, args.seconds), False),
                "loudness": (with_loudness(base), True)}
    paths = {}
    for name, (doc, _) in variants.items():
        paths[name] = OUT / f"{name}.json"
        paths[name].write_text(json.dumps(doc))
    render_once(service, paths["base"], OUT / "warm-up.mp4", False)  # page cache and font caches warm
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for r in range(args.rounds):
        for name, (_, normalise) in variants.items():
            times[name].append(render_once(service, paths[name], OUT / f"{name}.mp4", normalise))
        print(f"round {r + 1}: " + ", ".join(f"{n} {times[n][-1][0]:.2f} s ({times[n][-1][1]:.2f} s CPU)"
                                             for n in variants), flush=True)
    wall = {n: statistics.median(t[0] for t in v) for n, v in times.items()}
    cpu = {n: statistics.median(t[1] for t in v) for n, v in times.items()}
    result = {"profile": "social_1080p", "seconds": args.seconds, "rounds": args.rounds,
              "median_wall_s": {n: round(v, 2) for n, v in wall.items()},
              "median_cpu_s": {n: round(v, 2) for n, v in cpu.items()},
              "captions_ratio": {"wall": round(wall["captions"] / wall["base"], 3),
                                 "cpu": round(cpu["captions"] / cpu["base"], 3)},
              "loudness_ratio": {"wall": round(wall["loudness"] / wall["base"], 3),
                                 "cpu": round(cpu["loudness"] / cpu["base"], 3)}}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
