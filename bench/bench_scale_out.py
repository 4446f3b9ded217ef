"""Scale-out bench: the 60 s reference project chunked on the local pool and on Celery workers
(1 and 2, concurrency 1 each, on this machine, RabbitMQ on loopback), as ratios in one run.

The 60 s project is bench_render's 30 s reference twice over (crossfades, a 1.5x clip with a
colour filter, a fading logo, titles, a music bed). Every run starts from an empty state folder
(no chunk cache). Reported: wall times and their ratios to the local pool with one worker; the
queue's overhead per chunk, measured two ways from the job's events: the time from the job's
dispatch to its first chunk starting (enqueue to start), and each worker's idle gap between
finishing one chunk and starting its next (broker round trip + rebuilding the plan from the
database); and the speed-up projected for N machines from the measured chunk times.

    python bench/bench_scale_out.py [--profile social_1080p] [--chunk-seconds 10]
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "scale_out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_render import make_media, reference_project  # noqa: E402

CLI = [sys.executable, "-m", "engines.cli"]


def sixty_seconds() -> dict:
    """The 30 s reference twice over: every clip again 30 s later."""
    from engines.model.timebase import fraction_text, parse_time

    doc = reference_project()
    doc["id"] = "bench-ref-60"
    for track in doc["tracks"]:
        again = [dict(copy.deepcopy(c), id=c["id"] + "b", start=fraction_text(parse_time(c["start"]) + 30))
                 for c in track["clips"]]
        track["clips"] += again
    return doc


def env_for(home: Path, queue: str, celery: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTLITE_")}
    env.update(CUTLITE_HOME=str(home), CUTLITE_QUEUE=queue, CUTLITE_HW="cpu")
    if celery:
        env["CUTLITE_EXECUTOR"] = "celery"
    return env


def events(env: dict[str, str], job_id: str) -> list[dict]:
    code = ("import sys, json; from engines.video_render.service import RenderService; "
            "print(json.dumps(RenderService().jobs.events(sys.argv[1]), default=str))")
    out = subprocess.run([sys.executable, "-c", code, job_id], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def ts(e: dict) -> float:
    return datetime.fromisoformat(str(e["at"]).replace("Z", "+00:00")).timestamp()


def run(project: Path, profile: str, chunk: str, workers: int, celery: bool) -> dict:
    home = OUT / f"home-{'celery' if celery else 'local'}-{workers}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    queue = "bench-" + secrets.token_hex(4)
    env = env_for(home, queue, celery)
    procs = []
    if celery:
        for i in range(workers):
            log = open(home / f"w{i}.log", "w")
            procs.append(subprocess.Popen([*CLI, "worker", "--name", f"w{i}", "--concurrency", "1"], env=env,
                                          stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        while not all("ready" in (home / f"w{i}.log").read_text() for i in range(workers)):
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.1)
    try:
        t = time.perf_counter()
        out = subprocess.run([*CLI, "render", str(project), "--profile", profile, "-o", str(home / "out.mp4"),
                              "--chunk-seconds", chunk, "--workers", str(workers), "--json"], env=env,
                             capture_output=True, text=True, timeout=3600)
        wall = time.perf_counter() - t
        assert out.returncode == 0, out.stderr[-3000:]
        view = json.loads(out.stdout)
        assert view["state"] == "COMPLETED"
        evs = events(env, view["id"])
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(30)
        if celery:
            from engines.jobs.celery_app import app

            with app.connection_for_write() as conn:  # leave the broker as it was
                conn.default_channel.queue_delete(queue)
    chunk_seconds = [c["seconds"] for c in view["chunks"]]
    first_start = min(ts(e) for e in evs if e["kind"] == "chunk_running")
    dispatched = min(ts(e) for e in evs if e["kind"] == "running")
    gaps = []
    by_worker: dict[str, list[tuple[str, float]]] = {}
    worker_of: dict[int, str] = {}  # a chunk's done event names no worker: the one that started it
    for e in evs:
        if e["kind"] == "chunk_running":
            worker_of[e["data"]["index"]] = e["data"]["worker"]
        if e["kind"] in ("chunk_running", "chunk_done") and e["data"]["index"] in worker_of:
            by_worker.setdefault(worker_of[e["data"]["index"]], []).append((e["kind"], ts(e)))
    for seq in by_worker.values():
        gaps += [b[1] - a[1] for a, b in zip(seq, seq[1:]) if a[0] == "chunk_done" and b[0] == "chunk_running"]
    return {"wall": wall, "chunks": len(view["chunks"]), "chunk_seconds": chunk_seconds,
            "enqueue_to_start": first_start - dispatched, "idle_gaps": gaps,
            "timings": view["timings"], "workers_used": sorted({c["worker"].split("@")[0] for c in view["chunks"]})}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="social_1080p")
    ap.add_argument("--chunk-seconds", default="10")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    from engines.ffmpeg.runner import FFmpegRunner

    make_media(OUT, FFmpegRunner())
    project = OUT / "project60.json"
    project.write_text(json.dumps(sixty_seconds(), indent=2))

    results = {}
    for name, workers, celery in (("local pool, 1 worker", 1, False), ("celery, 1 worker", 1, True),
                                  ("celery, 2 workers", 2, True), ("local pool, 2 workers", 2, False)):
        print(f"{name} ...", flush=True)
        results[name] = r = run(project, args.profile, args.chunk_seconds, workers, celery)
        print(f"  {r['wall']:.1f} s, {r['chunks']} chunks, workers {r['workers_used'] or '-'}", flush=True)
    base = results["local pool, 1 worker"]["wall"]
    one = results["celery, 1 worker"]
    per_chunk_overhead = (one["wall"] - base) / one["chunks"]
    gaps = results["celery, 1 worker"]["idle_gaps"] + results["celery, 2 workers"]["idle_gaps"]
    chunk_mean = statistics.mean(results["local pool, 1 worker"]["chunk_seconds"])
    fixed = base - sum(results["local pool, 1 worker"]["chunk_seconds"])  # audio, join, planning
    n = one["chunks"]
    projection = {}
    for machines in (1, 2, 3, 6):
        waves = math.ceil(n / machines)
        projected = fixed + waves * (chunk_mean + max(0.0, statistics.median(gaps) if gaps else per_chunk_overhead))
        projection[machines] = round(base / projected, 2)
    report = {
        "profile": args.profile, "chunk_seconds": args.chunk_seconds, "chunks": n,
        "wall_s": {k: round(v["wall"], 2) for k, v in results.items()},
        "ratio_to_local_1": {k: round(v["wall"] / base, 3) for k, v in results.items()},
        "overhead_per_chunk_s": round(per_chunk_overhead, 3),
        "enqueue_to_first_start_s": {k: round(v["enqueue_to_start"], 3) for k, v in results.items() if "celery" in k},
        "worker_idle_gap_between_chunks_s": {"median": round(statistics.median(gaps), 3) if gaps else None,
                                             "max": round(max(gaps), 3) if gaps else None, "samples": len(gaps)},
        "mean_chunk_s": round(chunk_mean, 2), "fixed_s": round(fixed, 2),
        "projected_speed_up_with_n_machines_of_2_cores": projection,
    }
    (OUT / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
