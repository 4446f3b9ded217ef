"""Big-timeline bench: render time per output second as the clip count grows, audio included.

Two timelines, as a fast-cut montage or an imported NLE sequence makes them:
- ``montage``: one video track of 0.5 s cuts from one 12 s source (the clips' own sound);
- ``mixed``: 0.5 s cuts cycling over three sources, a crossfade every fourth cut, and an overlay
  track with a logo over every tenth cut.

Each (case, clip count) is rendered as a job (``draft_360p``, chunks of 10 s, one worker) in its own
process, so that the peak memory of that run alone is measured (its largest ffmpeg and itself).
The curve is printed as seconds per output second and as a ratio to the 10-clip case.

    python bench/bench_big_timeline.py [--clips 10,100,1000,2000] [--cases montage,mixed]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "out" / "big_timeline"
CUT = Fraction(1, 2)  # seconds per cut
XFADE = Fraction(1, 6)  # the mixed case's crossfades


def make_sources(folder: Path, runner: Any = None) -> dict[str, Path]:
    """A 12 s source with a tone (and two more for the mixed case), made once."""
    from engines.ffmpeg import samples

    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for name, pattern, tone in (("main", "testsrc2", 440), ("city", "smptehdbars", 660), ("sea", "rgbtestsrc", 330)):
        path = folder / f"{name}.mp4"
        if not path.exists():
            samples.make_video(path.with_suffix(".tmp.mp4"), seconds=12, width=1280, height=720, pattern=pattern,
                               tone_hz=tone, runner=runner).rename(path)
        made[name] = path
    logo = folder / "logo.png"
    if not logo.exists():
        samples.make_image(logo, width=128, height=128, color="orange", runner=runner)
    made["logo"] = logo
    return made


def montage(n: int, sources: dict[str, Path], *, case: str = "montage", cut: Fraction = CUT,
            source_seconds: Fraction = Fraction(12), size: tuple[int, int] = (1280, 720)) -> dict[str, Any]:
    """A project of ``n`` cuts of ``cut`` seconds (see the module docstring for the two cases)."""
    names = ["main"] if case == "montage" else ["main", "city", "sea"]
    clips, overlays, end = [], [], Fraction(0)
    xfade = min(XFADE, cut / 3)
    for i in range(n):
        # wanders over the source, out of order, never repeating a run of cuts: no two chunks of the
        # job have the same content (the chunk cache would reuse them)
        source_in = Fraction((i * 7919) % int((source_seconds - cut) * 100), 100)
        crossfade = case == "mixed" and i % 4 == 3
        start = end - xfade if crossfade else end  # a transition overlaps the previous cut
        clip: dict[str, Any] = {"id": f"c{i}", "asset": names[i % len(names)], "start": str(start),
                                "source_in": str(source_in), "source_out": str(source_in + cut)}
        if crossfade:
            clip["transition_in"] = {"type": "crossfade", "duration": str(xfade)}
        clips.append(clip)
        if case == "mixed" and i % 10 == 0:
            overlays.append({"id": f"o{i}", "asset": "logo", "start": str(start), "duration": str(cut),
                             "x": 0.85, "y": 0.15, "scale": 0.15})
        end = start + cut
    tracks: list[dict[str, Any]] = [{"id": "v", "kind": "video", "clips": clips}]
    if overlays:
        tracks.append({"id": "o", "kind": "overlay", "clips": overlays})
    used = set(names) | ({"logo"} if overlays else set())
    return {"schema_version": 1, "id": f"big-{case}-{n}", "tenant": "bench", "env": "dev",
            "settings": {"width": size[0], "height": size[1], "fps": 30},
            "assets": {k: {"path": str(sources[k])} for k in sorted(used)}, "tracks": tracks}


def run_one(case: str, n: int) -> dict[str, Any]:
    """Plan and render one timeline as a job, in this process; its measurements."""
    from engines.ffmpeg.runner import FFmpegRunner
    from engines.media_v2.library import MediaLibrary
    from engines.media_v2.registry import Registry
    from engines.media_v2.storage import LocalStore
    from engines.video_render.service import RenderService

    runner = FFmpegRunner()
    sources = make_sources(OUT / "media", runner)
    home = OUT / f"state_{case}_{n}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    doc = montage(n, sources, case=case)
    project = home / "project.json"
    project.write_text(json.dumps(doc))
    library = MediaLibrary(Registry(f"sqlite:///{home / 'cutlite.db'}"), stores={"dev": LocalStore(home / "objects")})
    svc = RenderService(runner, library=library)
    t = time.perf_counter()
    plan = svc.plan_project(project, "draft_360p", "cpu")
    planning = time.perf_counter() - t
    t = time.perf_counter()
    job, _ = svc.submit_job(project, "draft_360p", options={"chunk_seconds": "10"}, hw="cpu")
    done = svc.run_job(job.id, workers=1)
    total = time.perf_counter() - t
    if done.state != "COMPLETED":
        return {"case": case, "clips": n, "state": done.state, "error": done.error}
    seconds = float(Fraction(plan.duration))
    kids, me = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    children, own = kids.ru_maxrss, me.ru_maxrss
    cpu = kids.ru_utime + kids.ru_stime + me.ru_utime + me.ru_stime
    shutil.rmtree(home, ignore_errors=True)
    return {"case": case, "clips": n, "state": "COMPLETED", "output_seconds": round(seconds, 3),
            "frames": plan.frames, "inputs": len(plan.inputs), "planning_s": round(planning, 3),
            "total_s": round(total, 2), "audio_s": done.timings.get("audio"), "chunks_s": done.timings.get("chunks"),
            "join_s": done.timings.get("join"), "s_per_output_s": round(total / seconds, 4),
            "cpu_s_per_output_s": round(cpu / seconds, 4),
            "peak_ffmpeg_mib": round(children / 1024), "peak_python_mib": round(own / 1024)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", default="10,100,1000,2000")
    ap.add_argument("--cases", default="montage,mixed")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # "case:n": measure one run in this process
    args = ap.parse_args()
    if args.one:
        case, n = args.one.split(":")
        print(json.dumps(run_one(case, int(n))))
        return 0
    make_sources(OUT / "media")
    report: dict[str, list[dict[str, Any]]] = {}
    for case in args.cases.split(","):
        rows = []
        for n in (int(x) for x in args.clips.split(",")):
            proc = subprocess.run([sys.executable, __file__, "--one", f"{case}:{n}"], capture_output=True, text=True)
            if proc.returncode != 0:
                rows.append({"case": case, "clips": n, "state": "CRASHED", "stderr": proc.stderr[-2000:]})
            else:
                rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            for key in ("s_per_output_s", "cpu_s_per_output_s"):
                base = rows[0].get(key)
                if base and rows[-1].get(key):
                    rows[-1][key.replace("s_per_output_s", "ratio")] = round(rows[-1][key] / base, 2)
            print(json.dumps(rows[-1]), flush=True)
        report[case] = rows
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_big_timeline.json").write_text(json.dumps(report, indent=2))
    print("\nratios to the 10-clip case: wall time per output second (load-sensitive) and CPU time per output second")
    print("case     clips  output_s  wall_s/out_s  wall_ratio  cpu_s/out_s  cpu_ratio  audio_s  planning_s  peak_MiB")
    for case, rows in report.items():
        for r in rows:
            peak = max(r.get("peak_ffmpeg_mib", 0), r.get("peak_python_mib", 0)) or r.get("state")
            print(f"{case:8} {r['clips']:5}  {r.get('output_seconds', '-'):>8}  {r.get('s_per_output_s', '-'):>12}  "
                  f"{r.get('ratio', '-'):>10}  {r.get('cpu_s_per_output_s', '-'):>11}  {r.get('cpu_ratio', '-'):>9}  "
                  f"{r.get('audio_s', '-'):>7}  {r.get('planning_s', '-'):>10}  {peak:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
