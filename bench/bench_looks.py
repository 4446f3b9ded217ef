"""Looks bench: a clip with a mask and a blurred canvas (and a LUT), against the same clip plain.

A 1080p frame holding a portrait 1080x1920 source (``fit: contain``: bars either side), one clip of
``--seconds`` seconds. The variants, all rendered in the same process in rounds whose order
rotates (a slow spell hits every variant); figures are medians of the per-round ratios to *plain*,
wall and CPU (user + system of planning and ffmpeg):

- ``plain``: the clip alone (the background fills the bars);
- ``mask``: a rectangle mask with a feathered edge (steady: drawn once);
- ``mask_animated``: the same mask with keyframed x and width (drawn every frame by ``geq``: tens
  of times the plain clip's cost at this size, so only with ``--only mask_animated``);
- ``canvas``: a blurred canvas (``amount`` 0.5);
- ``color_canvas``: a colour canvas;
- ``mask_canvas``: mask + blurred canvas;
- ``lut_mask_canvas``: mask + blurred canvas + the ``lut`` effect (a 33-point warm grade ``.cube``
  written here, at full intensity);
- ``lut``: the LUT alone (what the LUT itself costs);
- ``blend``: a half-size overlay of the same source with ``blend: multiply`` over the plain clip,
  against ``overlay``: the same overlay drawn normally.

    python bench/bench_looks.py [--rounds 3] [--seconds 4] [--profile social_1080p]

Goal: lut_mask_canvas / plain <= 1.5 (wall).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_render import timed  # noqa: E402

from engines.ffmpeg import samples  # noqa: E402
from engines.ffmpeg.probe import count_video_frames  # noqa: E402
from engines.ffmpeg.runner import FFmpegRunner  # noqa: E402
from engines.video_render.service import RenderService  # noqa: E402

OUT = ROOT / "bench" / "out" / "looks"
MASK = {"shape": "rectangle", "width": 0.8, "height": 0.7, "feather": 0.1}
MOVING_MASK = {**MASK, "x": [[0, 0.4], {"t": 2, "value": 0.6, "ease": "ease_in_out"}], "width": [[0, 0.6], [4, 0.9]]}
BLUR = {"type": "blur", "amount": 0.5}
LUT = "lut_mask_canvas"


def project(name: str, seconds: int) -> dict:
    clip: dict = {"id": "c", "asset": "src", "start": 0, "source_in": 0, "source_out": seconds, "fit": "contain"}
    if name.startswith("lut"):
        clip["filters"] = [{"type": "lut", "asset": "grade"}]
    if "mask" in name:
        clip["mask"] = MOVING_MASK if name == "mask_animated" else MASK
    if name.endswith("canvas"):
        clip["canvas"] = {"type": "color", "color": "#204060"} if name == "color_canvas" else BLUR
    tracks = [{"id": "v", "kind": "video", "clips": [clip]}]
    if name in ("blend", "overlay"):
        over = {"id": "o", "asset": "src", "start": 0, "source_in": 0, "source_out": seconds, "scale": 0.5}
        if name == "blend":
            over["blend"] = "multiply"
        tracks.append({"id": "o", "kind": "overlay", "clips": [over]})
    return {"schema_version": 1, "id": f"bench-looks-{name}", "tenant": "bench", "env": "dev",
            "settings": {"width": 1920, "height": 1080, "fps": 30, "sample_rate": 48000},
            "assets": {"src": {"path": "media/portrait.mp4"}, "grade": {"path": "media/warm.cube"}},
            "tracks": tracks}


def warm_cube(n: int = 33) -> str:
    """A warm grade: red lifted, blue lowered, a gentle S-curve (a typical creative LUT)."""
    lines = ["TITLE \"warm\"", f"LUT_3D_SIZE {n}"]

    def curve(v: float) -> float:
        return min(1.0, max(0.0, v + 0.08 * (v - 0.5) * (1 - abs(2 * v - 1))))
    for b in range(n):
        for g in range(n):
            for r in range(n):
                lines.append(f"{curve(min(1.0, r / (n - 1) * 1.06)):.6f} {curve(g / (n - 1)):.6f} "
                             f"{curve(b / (n - 1) * 0.92):.6f}")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--profile", default="social_1080p")
    ap.add_argument("--only", default="", help="comma-separated variants (default: all)")
    args = ap.parse_args()
    runner = FFmpegRunner()
    service = RenderService(runner)
    (OUT / "media").mkdir(parents=True, exist_ok=True)
    src = OUT / "media" / "portrait.mp4"
    if not src.exists():
        samples.make_video(src, seconds=args.seconds + 1, width=1080, height=1920, pattern="testsrc2", tone_hz=None,
                           runner=runner)
    (OUT / "media" / "warm.cube").write_text(warm_cube())
    names = ["plain", "mask", "canvas", "color_canvas", "mask_canvas", "lut", LUT, "overlay", "blend"]
    if args.only:
        names = ["plain", *[n for n in args.only.split(",") if n != "plain"]]
    plans = {}
    for name in names:
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(project(name, args.seconds), indent=2))
        plans[name] = service.plan_project(path, args.profile, "cpu")
    outputs = {k: OUT / f"{k}.mp4" for k in names}
    rounds = []
    for k in range(args.rounds):
        turn = names[k % len(names):] + names[:k % len(names)]
        rounds.append({name: timed(lambda n=name: service.render(plans[n], outputs[n])) for name in turn})

    def ratio(a: str, b: str) -> dict:
        w = [r[a][0] / r[b][0] for r in rounds]
        c = [r[a][1] / r[b][1] for r in rounds]
        return {"wall": round(statistics.median(w), 3), "wall_range": [round(min(w), 3), round(max(w), 3)],
                "cpu": round(statistics.median(c), 3)}

    row = {"profile": args.profile, "rounds": args.rounds, "seconds_of_video": args.seconds,
           "seconds": {k: round(statistics.median(r[k][0] for r in rounds), 2) for k in names},
           "cpu_seconds": {k: round(statistics.median(r[k][1] for r in rounds), 2) for k in names},
           "vs_plain": {k: ratio(k, "plain") for k in names if k not in ("plain", "blend")},
           **({"blend/overlay": ratio("blend", "overlay")} if "blend" in names else {}),
           "frames": {k: count_video_frames(v) for k, v in outputs.items()}}
    print(json.dumps(row, indent=2))
    (OUT / "bench_looks.json").write_text(json.dumps(row, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
