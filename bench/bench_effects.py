"""Effects bench: what each ``filters`` effect costs at 1080p, against the plain clip.

One 2 s 1080p clip (testsrc2), planned by cutlite for ``social_1080p`` once plain and once per
effect (that effect alone, as a project would give it), and run up to the end of the filter graph
(``-f null``: decode, fit, the effect, no encode), so the difference is the effect's own work.
All variants run in the same process, the order rotated each round; the figures are medians of
the per-round ratios of CPU seconds (user + system of ffmpeg: steadier than wall time on a shared
box; wall is printed too). An effect's cost is its extra CPU over the plain clip, relative to the
colour filter's (``eq``) = 1: the ``COST`` the latency model multiplies ``FILTER_MS_PER_MPX
["effects"]`` by (docs/performance.md, "Effects").

    python bench/bench_effects.py [--rounds 3] [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_render import timed  # noqa: E402

from engines.ffmpeg import samples  # noqa: E402
from engines.ffmpeg.runner import FFmpegRunner  # noqa: E402
from engines.rendering.renderer import write_work_folder  # noqa: E402
from engines.video_render.service import RenderService  # noqa: E402

OUT = ROOT / "bench" / "out"

VARIANTS: dict[str, list[dict]] = {
    "plain": [],
    "color": [{"type": "color", "brightness": 0.05, "contrast": 1.1, "saturation": 1.2}],
    "color hue": [{"type": "color", "hue": 30}],
    "color temperature": [{"type": "color", "temperature": 0.4}],
    "lut": [{"type": "lut", "asset": "look"}],
    "lut intensity 0.5": [{"type": "lut", "asset": "look", "intensity": 0.5}],
    "chroma_key": [{"type": "chroma_key"}],
    "blur": [{"type": "blur", "radius": 10}],
    "blur animated": [{"type": "blur", "radius": [[0, 0], [2, 20]]}],
    "vignette": [{"type": "vignette", "amount": 0.5}],
}


def look_cube(size: int = 33) -> str:
    """A warm look: a gentle S-curve with red lifted and blue lowered."""
    rows = [f"LUT_3D_SIZE {size}"]
    for b in range(size):
        for g in range(size):
            for r in range(size):
                x = [c / (size - 1) for c in (r, g, b)]
                s = [v * v * (3 - 2 * v) * 0.3 + v * 0.7 for v in x]
                rows.append(f"{min(1.0, s[0] * 1.05):.6f} {s[1]:.6f} {s[2] * 0.95:.6f}")
    return "\n".join(rows) + "\n"


def project(name: str, filters: list[dict], seconds: float) -> dict:
    return {"schema_version": 1, "id": f"bench-effects-{name.replace(' ', '-').replace('.', '')}", "tenant": "bench",
            "env": "dev", "settings": {"width": 1920, "height": 1080, "fps": 30, "sample_rate": 48000},
            "assets": {"src": {"path": "media/effects_src.mp4"}, "look": {"path": "media/look.cube"}},
            "tracks": [{"id": "main", "kind": "video", "clips": [
                {"id": "c", "asset": "src", "start": 0, "source_in": 0, "source_out": seconds, "filters": filters,
                 "muted": True}]}]}


def filter_only(service: RenderService, runner: FFmpegRunner, path: Path):
    """A job running the project's graph to its end, no encode."""
    plan = service.plan_project(path, "social_1080p", "cpu")
    args = list(plan.output_args)
    maps = [x for i in range(len(args) - 1) if args[i] == "-map" for x in args[i:i + 2]]
    plan = plan.model_copy(update={"output_args": [*maps, "-f", "null"]})

    def run() -> None:
        with tempfile.TemporaryDirectory(prefix="bench-effects-") as work:
            write_work_folder(plan, Path(work))
            runner.run(plan.argv("-"), stage="bench", cwd=Path(work))
    return run, plan.frames


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2)
    args = ap.parse_args()
    runner = FFmpegRunner()
    service = RenderService(runner)
    (OUT / "media").mkdir(parents=True, exist_ok=True)
    src = OUT / "media" / "effects_src.mp4"
    if not src.exists():
        samples.make_video(src, seconds=4, width=1920, height=1080, pattern="testsrc2", tone_hz=None, runner=runner)
    (OUT / "media" / "look.cube").write_text(look_cube())
    jobs, frames = {}, 0
    for name, filters in VARIANTS.items():
        path = OUT / f"effects_{name.replace(' ', '_')}.json"
        path.write_text(json.dumps(project(name, filters, args.seconds), indent=2))
        jobs[name], frames = filter_only(service, runner, path)
    for job in jobs.values():  # warm: the source in the page cache, the binary loaded
        job()
    order = list(jobs)
    rounds = []
    for k in range(args.rounds):
        turn = order[k % len(order):] + order[:k % len(order)]
        rounds.append({name: timed(jobs[name]) for name in turn})
    wall = {n: statistics.median(r[n][0] for r in rounds) for n in order}
    cpu = {n: statistics.median(r[n][1] for r in rounds) for n in order}
    extra = {n: statistics.median(r[n][1] - r["plain"][1] for r in rounds) for n in order}
    base = extra["color"]
    mpx = frames * 1920 * 1080 / 1e6
    table = {n: {"fps_vs_plain": round(statistics.median(r["plain"][0] / r[n][0] for r in rounds), 3),
                 "cpu_vs_plain": round(statistics.median(r[n][1] / r["plain"][1] for r in rounds), 3),
                 "extra_cpu_ms_per_mpx": round(1000 * extra[n] / mpx, 2),
                 "cost_vs_color": round(extra[n] / base, 1) if base > 0 else None,
                 "wall_s": round(wall[n], 3), "cpu_s": round(cpu[n], 3)} for n in order}
    print(f"{'effect':<20} {'fps/plain':>9} {'cpu/plain':>9} {'extra ms/Mpx':>12} {'cost':>6}")
    for n, row in table.items():
        print(f"{n:<20} {row['fps_vs_plain']:>9.3f} {row['cpu_vs_plain']:>9.3f} {row['extra_cpu_ms_per_mpx']:>12.2f} "
              f"{row['cost_vs_color'] if row['cost_vs_color'] is not None else '-':>6}")
    result = {"profile": "social_1080p", "frames": frames, "rounds": args.rounds, "effects": table}
    (OUT / "bench_effects.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
