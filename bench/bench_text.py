"""Text bench: what a styled text clip costs next to plain text (the latency model's text terms).

A 10 s 1080p timeline over a plain background, one 96-px text clip shown on every frame, each
variant's filter graph run alone (``-f null``, no encoder) a few times; the figure is the CPU
time (user + system of ffmpeg) over a graph without the text, in ms per output megapixel of the
frames it shows on: what ``FILTER_MS_PER_MPX`` counts.

    python bench/bench_text.py [--seconds 10] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.ffmpeg.profiles import get_profile  # noqa: E402
from engines.ffmpeg.runner import FFmpegRunner  # noqa: E402
from engines.model.project import load_project  # noqa: E402
from engines.planning.plan import build_plan  # noqa: E402
from engines.rendering.renderer import write_work_folder  # noqa: E402
from engines.video_render.service import RenderService  # noqa: E402

STROKE = {"color": "#000000", "width": 4}
SHADOW = {"x": 4, "y": 4, "blur": 6}
BOX = {"color": "#202020", "opacity": 0.6, "padding": 20, "radius": 16}
VARIANTS = {
    "plain (drawtext)": {},
    "bold (libass)": {"bold": True},
    "stroke": {"stroke": STROKE},
    "box": {"box": BOX},
    "blurred shadow": {"shadow": SHADOW},
    "stroke + box + shadow": {"stroke": STROKE, "box": BOX, "shadow": SHADOW, "bold": True},
    "the same, animated": {"stroke": STROKE, "box": BOX, "shadow": SHADOW, "x": [[0, 0.3], ["END", 0.7]],
                           "animation_in": {"type": "pop", "duration": 1},
                           "animation_out": {"type": "typewriter", "duration": 1}},
}


def project(seconds: float, style: dict | None) -> dict:
    clip = {"id": "t", "text": "Summer Sale: 50% off", "start": 0, "duration": seconds, "font_size": 96,
            "color": "#FFFFFF", "y": 0.8}
    if style is None:  # the floor: a three-frame dot in the background's colour
        clip.update(text=".", start=seconds - 0.1, duration=0.1, color="#336699")
    else:
        clip.update(json.loads(json.dumps(style).replace('"END"', str(seconds))))
    return {"schema_version": 1, "id": "bench-text", "tenant": "bench", "env": "dev",
            "settings": {"width": 1920, "height": 1080, "fps": 30, "background": "#336699"},
            "assets": {}, "tracks": [{"id": "o", "kind": "overlay", "clips": [clip]}]}


def cpu_seconds(svc: RenderService, doc: dict, repeats: int) -> float:
    proj = load_project(doc)
    profile = get_profile("social_1080p")
    plan = build_plan(proj, svc.gather(proj, ROOT), profile, svc.decide(profile, "cpu"), streams="video")
    plan = plan.model_copy(update={"output_args": ["-map", "[vout]", "-f", "null"]})
    best = float("inf")
    with tempfile.TemporaryDirectory(prefix="bench-text-") as work:
        write_work_folder(plan, Path(work))
        for _ in range(repeats):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            svc.runner.run(plan.argv("-"), stage="bench", cwd=work)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            best = min(best, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    svc = RenderService(FFmpegRunner())
    floor = cpu_seconds(svc, project(args.seconds, None), args.repeats)
    mpx = 1920 * 1080 / 1e6 * 30 * args.seconds
    print(f"floor (no text): {floor:.3f} s CPU")
    for name, style in VARIANTS.items():
        extra = cpu_seconds(svc, project(args.seconds, style), args.repeats) - floor
        print(f"{name:24s} +{extra:.3f} s CPU  {extra * 1000 / mpx:.2f} ms/Mpx")


if __name__ == "__main__":
    main()
