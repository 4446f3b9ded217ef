"""Preview bench: a 5 s window of the reference project at ``fast``, from proxies, on a warm service.

The reference project is bench_render's (30 s, 1080p30 timeline over 720p sources: a crossfade,
a 1.5x clip with a colour filter, a fading logo, a title, a music bed). In one run:
1. the latency model is calibrated for draft_360p (``cutlite doctor --calibrate`` does the same);
2. the draft_360p proxies are made;
3. for each window, ``--rounds`` times alternately: the preview (plan + render, end to end, on a
   warm ``PreviewService``) and the same window's plan rendered from the full-resolution sources;
   the printed figures are medians, the ratio is proxy preview over full-resolution render, and
   the estimate's error is against the preview's own render time and its end-to-end time;
4. an HLS preview of the first window: time to its first segment;
5. a cold preview: ``cutlite preview`` of the first window as a whole new process (interpreter,
   imports, registry, planning, render), ``--rounds`` times paired with the warm service's preview
   of the same window (the yardstick: the same work without the start-up); its median wall time
   against the 0.5 s goal, and what it says it waited for (``wait`` in its ``--json``).

    python bench/bench_preview.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "preview"
os.environ["CUTLITE_HOME"] = str(OUT / "home")  # the bench's own state (calibration, registry, proxies)
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_render import make_media, reference_project  # noqa: E402

from engines.ffmpeg.profiles import get_profile  # noqa: E402
from engines.model.timebase import snap_to_frame  # noqa: E402
from engines.planning.plan import build_plan  # noqa: E402
from engines.video_preview.latency import calibrate  # noqa: E402
from engines.video_preview.service import PreviewService  # noqa: E402
from engines.video_render.service import RenderService, ensure_proxies_for_project  # noqa: E402

WINDOWS = ((Fraction(8), Fraction(13)), (Fraction(20), Fraction(25)))  # across the crossfade; the tail


def full_resolution_plan(service: RenderService, project_file: Path, start: Fraction, end: Fraction):
    """The same window at the same profile, every picture read from its full-resolution source."""
    project, folder = service.load(project_file)
    profile = get_profile("draft_360p")
    sources = service.gather(project, folder)
    fps = profile.output_fps(project.settings.fps)
    return build_plan(project, sources, profile, service.decide(profile, None),
                      window=(snap_to_frame(start, fps), snap_to_frame(end, fps)))


def cold_preview(previews: PreviewService, project_file: Path, rounds: int) -> dict:
    """``cutlite preview`` as a new process, paired with the warm service's preview of the same window."""
    start, end = WINDOWS[0]
    argv = [sys.executable, "-m", "engines.cli", "preview", str(project_file), "--strategy", "fast",
            "--start", str(start), "--end", str(end), "-o", str(OUT / "cold.mp4"), "--json"]
    colds, warms, waits = [], [], []
    for _ in range(rounds):
        t = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=os.environ.copy())
        colds.append((time.monotonic() - t) * 1000)
        assert done.returncode == 0, done.stderr[-2000:]
        waits.append(json.loads(done.stdout)["wait"])
        t = time.monotonic()
        previews.preview(project_file, "fast", start, end, output=OUT / "warm.mp4")
        warms.append((time.monotonic() - t) * 1000)
    row = {"window": f"[{start}, {end}) s", "cold_ms": round(statistics.median(colds)),
           "warm_ms": round(statistics.median(warms)),
           "ratio_cold_to_warm": round(statistics.median(c / w for c, w in zip(colds, warms)), 2),
           "startup_and_planning_ms": round(statistics.median(w["startup_and_planning_ms"] for w in waits)),
           "render_ms": round(statistics.median(w["render_ms"] for w in waits))}
    print(json.dumps({"cold_preview": row}), flush=True)
    print(f"cold preview (a new `cutlite preview` process) {row['cold_ms']} ms: start-up and planning "
          f"{row['startup_and_planning_ms']} ms + render {row['render_ms']} ms; warm service {row['warm_ms']} ms; "
          f"goal 500 ms {'met' if row['cold_ms'] <= 500 else 'NOT met'}", flush=True)
    return row


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    service = RenderService()
    make_media(OUT, service.runner)
    project_file = OUT / "project.json"
    project_file.write_text(json.dumps(reference_project(), indent=2))

    t = time.monotonic()
    model = calibrate(service, ["draft_360p"])
    print(f"calibrated draft_360p in {time.monotonic() - t:.1f} s: "
          f"{model.throughput('draft_360p', 'libx264')[0]}", flush=True)
    t = time.monotonic()
    outcomes = ensure_proxies_for_project(project_file, "draft_360p", service=service)
    print(f"proxies: {', '.join(f'{o.asset} {o.status}' for o in outcomes)} ({time.monotonic() - t:.1f} s)")

    previews = PreviewService(service, model=model)
    previews.preview(project_file, "fast", *WINDOWS[0], output=OUT / "warm-up.mp4")  # a warm server
    report = []
    for start, end in WINDOWS:
        walls, renders, fulls = [], [], []
        full_plan = full_resolution_plan(service, project_file, start, end)
        result = None
        for _ in range(args.rounds):
            t = time.monotonic()
            result = previews.preview(project_file, "fast", start, end, output=OUT / "preview.mp4")
            walls.append((time.monotonic() - t) * 1000)
            renders.append(result.measured_ms or 0.0)
            t = time.monotonic()
            service.render(full_plan, OUT / "full.mp4")
            fulls.append((time.monotonic() - t) * 1000)
        assert result is not None and not result.warnings, result and result.warnings
        wall, rendered, full = (statistics.median(x) for x in (walls, renders, fulls))
        estimate = result.estimate.ms
        row = {"window": f"[{start}, {end}) s", "frames": result.plan.frames,
               "proxies": ",".join(a.asset for a in result.assets if a.read_from == "proxy"),
               "preview_ms": round(wall), "render_ms": round(rendered), "estimate_ms": round(estimate),
               "estimate_error_vs_render": round((estimate - rendered) / rendered, 3),
               "estimate_error_vs_wall": round((estimate - wall) / wall, 3),
               "full_res_ms": round(full), "ratio_to_full_res": round(wall / full, 3)}
        report.append(row)
        print(json.dumps(row), flush=True)

    hls = previews.preview(project_file, "fast", *WINDOWS[0], hls=OUT / "hls").hls
    assert hls is not None
    print(f"HLS [{WINDOWS[0][0]}, {WINDOWS[0][1]}) s: {hls.segments} segments, first after "
          f"{hls.first_segment_ms:.0f} ms, all after {hls.total_ms:.0f} ms")
    cold = cold_preview(previews, project_file, args.rounds)
    previews.close()
    doc = {"rounds": args.rounds, "windows": report, "cold": cold,
           "hls": {"first_segment_ms": round(hls.first_segment_ms or 0), "total_ms": round(hls.total_ms)}}
    (OUT / "report.json").write_text(json.dumps(doc, indent=2))
    ok = all(r["preview_ms"] < 1000 and abs(r["estimate_error_vs_render"]) <= 0.3 for r in report)
    print("target (< 1 s, estimate within ±30 %):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
