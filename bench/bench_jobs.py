"""Jobs bench: chunked renders (1 and 2 workers) and an incremental re-render after a one-clip
edit, as ratios to a full single-pass render of the same project timed in the same run.

The project is bench_render's 30 s three-track reference at social_1080p, chunks of 5 s. Each
chunked run starts from an empty state folder (no chunk cache); the incremental run reuses the
state of the 1-worker run after changing the colour filter of the last clip (19..30 s).

    python bench/bench_jobs.py [--rounds 1] [--profile social_1080p] [--chunk-seconds 5]
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_render import OUT, make_media, reference_project  # noqa: E402

from engines.ffmpeg.runner import FFmpegRunner  # noqa: E402
from engines.media_v2.library import MediaLibrary  # noqa: E402
from engines.media_v2.registry import Registry  # noqa: E402
from engines.media_v2.storage import LocalStore  # noqa: E402
from engines.video_render.service import RenderService  # noqa: E402


def service_in(home: Path, runner: FFmpegRunner) -> RenderService:
    shutil.rmtree(home, ignore_errors=True)
    library = MediaLibrary(Registry(f"sqlite:///{home / 'cutlite.db'}"), stores={"bench": LocalStore(home / "objects"),
                                                                                 "dev": LocalStore(home / "objects")})
    return RenderService(runner, library=library)


def timed_job(svc: RenderService, project: Path, profile: str, chunk: str, workers: int) -> tuple[float, dict]:
    t = time.perf_counter()
    job, _ = svc.submit_job(project, profile, options={"chunk_seconds": chunk}, hw="cpu")
    done = svc.run_job(job.id, workers=workers)
    elapsed = time.perf_counter() - t
    assert done.state == "COMPLETED", done.error
    return elapsed, svc.job_view(job.id)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--profile", default="social_1080p")
    ap.add_argument("--chunk-seconds", default="5")
    args = ap.parse_args()
    runner = FFmpegRunner()
    OUT.mkdir(parents=True, exist_ok=True)
    make_media(OUT, runner)
    base = reference_project()
    project = OUT / "reference.json"
    project.write_text(json.dumps(base, indent=2))
    edited_doc = copy.deepcopy(base)
    edited_doc["tracks"][0]["clips"][2]["filters"] = [{"type": "color", "brightness": 0.1}]
    edited = OUT / "reference_edited.json"
    edited.write_text(json.dumps(edited_doc, indent=2))

    times: dict[str, list[float]] = {"single": [], "chunked_1": [], "chunked_2": [], "incremental": []}
    reused = chunks = 0
    for _ in range(args.rounds):
        svc = service_in(OUT / "state_single", runner)
        t = time.perf_counter()
        svc.render(svc.plan_project(project, args.profile, "cpu"), OUT / "single.mp4")
        times["single"].append(time.perf_counter() - t)
        for workers in (1, 2):
            svc = service_in(OUT / f"state_{workers}", runner)
            elapsed, _ = timed_job(svc, project, args.profile, args.chunk_seconds, workers)
            times[f"chunked_{workers}"].append(elapsed)
            if workers == 1:
                elapsed, view = timed_job(svc, edited, args.profile, args.chunk_seconds, 1)
                times["incremental"].append(elapsed)
                reused = sum(c["reused"] for c in view["chunks"])
                chunks = len(view["chunks"])
    single = statistics.median(times["single"])
    report = {name: {"seconds": round(statistics.median(v), 2), "ratio_to_single": round(statistics.median(v) / single, 3)}
              for name, v in times.items()}
    report["incremental"]["chunks_reused"] = f"{reused}/{chunks}"
    report["profile"], report["chunk_seconds"], report["rounds"] = args.profile, args.chunk_seconds, args.rounds
    print(json.dumps(report, indent=2))
    (OUT / "bench_jobs.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
