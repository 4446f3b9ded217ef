"""Scale-out bench: the 60 s reference project chunked on the local pool and on Celery workers
(1 and 2, concurrency 1 each, on this machine, RabbitMQ on loopback), as ratios in one run.

The 60 s project is bench_render's 30 s reference twice over (crossfades, a 1.5x clip with a
colour filter, a fading logo, titles, a music bed). Every run starts from an empty state folder
(no chunk cache). Reported: wall times and their ratios to the local pool with one worker; the
queue's overhead per chunk, measured two ways from the job's events: the time from the job's
dispatch to its first chunk starting (enqueue to start), and each worker's idle gap between
finishing one chunk and starting its next (broker round trip + rebuilding the plan from the
database); and the speed-up projected for N machines from the measured chunk times.

One-core machines simulated (``--only one-core``): each ``cutlite worker`` pinned to a core of
its own with ``taskset -c N`` (its ffmpeg children inherit the pinning) and
``CUTLITE_ENCODER_THREADS=1``; one pinned worker against two, with a one-core one pass and a
one-core local pool for the per-chunk costs, and what those predict for 10 and 100 machines.

    python bench/bench_scale_out.py [--profile social_1080p] [--chunk-seconds 10] [--only shared|one-core]
        [--rounds 1]
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
from fractions import Fraction
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


def env_for(home: Path, queue: str, celery: bool, one_core: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTLITE_")}
    env.update(CUTLITE_HOME=str(home), CUTLITE_QUEUE=queue, CUTLITE_HW="cpu")
    if celery:
        env["CUTLITE_EXECUTOR"] = "celery"
    if one_core:
        env["CUTLITE_ENCODER_THREADS"] = "1"  # x264 and the filter graph as on a one-core machine
    return env


def pinned(core: int | None) -> list[str]:
    """``taskset -c N``: the process and every ffmpeg it starts run on core N only."""
    return [] if core is None else ["taskset", "-c", str(core)]


def events(env: dict[str, str], job_id: str) -> list[dict]:
    code = ("import sys, json; from engines.video_render.service import RenderService; "
            "print(json.dumps(RenderService().jobs.events(sys.argv[1]), default=str))")
    out = subprocess.run([sys.executable, "-c", code, job_id], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def ts(e: dict) -> float:
    return datetime.fromisoformat(str(e["at"]).replace("Z", "+00:00")).timestamp()


def run(project: Path, profile: str, chunk: str, workers: int, celery: bool, *, one_core: bool = False) -> dict:
    """One render from an empty state. ``one_core``: every rendering process pinned to a core of
    its own (Celery worker i on core i; the local pool's whole process on core 0) with
    CUTLITE_ENCODER_THREADS=1: one-core machines simulated on this one."""
    home = OUT / f"home-{'celery' if celery else 'local'}-{workers}{'-pinned' if one_core else ''}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    queue = "bench-" + secrets.token_hex(4)
    env = env_for(home, queue, celery, one_core)
    procs = []
    if celery:
        for i in range(workers):
            log = open(home / f"w{i}.log", "w")
            procs.append(subprocess.Popen([*pinned(i if one_core else None), *CLI, "worker", "--name", f"w{i}",
                                           "--concurrency", "1"], env=env, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        while not all("ready" in (home / f"w{i}.log").read_text() for i in range(workers)):
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.1)
    try:
        t = time.perf_counter()
        # the submitter of a Celery run only plans and waits: it is not pinned (an API machine's work)
        out = subprocess.run([*pinned(0 if one_core and not celery else None), *CLI, "render", str(project), "--profile", profile, "-o", str(home / "out.mp4"),
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


def shared_machine(project: Path, profile: str, chunk: str) -> dict:
    """Local pool vs Celery with 1 and 2 workers, every process free to use both cores."""
    results = {}
    for name, workers, celery in (("local pool, 1 worker", 1, False), ("celery, 1 worker", 1, True),
                                  ("celery, 2 workers", 2, True), ("local pool, 2 workers", 2, False)):
        print(f"{name} ...", flush=True)
        results[name] = r = run(project, profile, chunk, workers, celery)
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
    return {
        "profile": profile, "chunk_seconds": chunk, "chunks": n,
        "wall_s": {k: round(v["wall"], 2) for k, v in results.items()},
        "ratio_to_local_1": {k: round(v["wall"] / base, 3) for k, v in results.items()},
        "overhead_per_chunk_s": round(per_chunk_overhead, 3),
        "enqueue_to_first_start_s": {k: round(v["enqueue_to_start"], 3) for k, v in results.items() if "celery" in k},
        "worker_idle_gap_between_chunks_s": {"median": round(statistics.median(gaps), 3) if gaps else None,
                                             "max": round(max(gaps), 3) if gaps else None, "samples": len(gaps)},
        "mean_chunk_s": round(chunk_mean, 2), "fixed_s": round(fixed, 2),
        "projected_speed_up_with_n_machines_of_2_cores": projection,
    }


ONE_CORE_RUNS = (  # name, workers, celery, chunk seconds (None: the --chunk-seconds given)
    ("one core: one pass (local, 1 chunk)", 1, False, "100000"),
    ("one core: local pool, chunked", 1, False, None),
    ("one core: celery, 1 pinned worker", 1, True, None),
    ("one core: celery, 2 pinned workers", 2, True, None),
)


def one_core_machines(project: Path, profile: str, chunk: str, rounds: int, duration: Fraction) -> dict:
    """One-core machines simulated: each worker pinned to a core of its own, x264 on one thread.

    From the medians: the speed-up of a second worker and the efficiency per added worker
    (speed-up / workers); the queue's overhead per chunk (Celery 1 worker - local pool, same
    chunks and core, per chunk); the chunking cost per chunk (chunked - one pass, per chunk:
    padding frames, cut, join); the encode rate on one core; and from those, the chunk length
    and efficiency to expect on 10 and 100 such machines (``scale_projection``)."""
    from engines.planning.chunks import chunk_frames_of

    runs: dict[str, list[dict]] = {name: [] for name, *_ in ONE_CORE_RUNS}
    for i in range(rounds):
        order = ONE_CORE_RUNS if i % 2 == 0 else tuple(reversed(ONE_CORE_RUNS))
        for name, workers, celery, length in order:
            print(f"{name} (round {i + 1}) ...", flush=True)
            r = run(project, profile, length or chunk, workers, celery, one_core=True)
            runs[name].append(r)
            print(f"  {r['wall']:.1f} s, {r['chunks']} chunks, workers {r['workers_used'] or '-'}", flush=True)
    wall = {k: statistics.median(r["wall"] for r in v) for k, v in runs.items()}
    one_pass, local, c1, c2 = (wall[name] for name, *_ in ONE_CORE_RUNS)
    chunks = runs[ONE_CORE_RUNS[2][0]][0]["chunks"]
    speed_up = c1 / c2
    gaps = [g for k in (ONE_CORE_RUNS[2][0], ONE_CORE_RUNS[3][0]) for r in runs[k] for g in r["idle_gaps"]]
    queue = (c1 - local) / chunks
    chunking = (local - one_pass) / chunks
    single = runs[ONE_CORE_RUNS[0][0]]
    fixed = statistics.median(r["wall"] - sum(r["chunk_seconds"]) for r in single)
    rate = (one_pass - fixed) / float(duration)  # encode seconds per output second on one core
    celery1 = runs[ONE_CORE_RUNS[2][0]]
    spans = padded_seconds(int(duration * 30), chunk_frames_of(chunk, Fraction(30)), profile)
    chunk_rate = statistics.median(sum(r["chunk_seconds"]) / sum(spans) for r in celery1)
    costs = {"fixed_s": fixed, "rate": rate, "queue_s": max(0.0, queue)}
    return {
        "profile": profile, "chunk_seconds": chunk, "chunks": chunks, "rounds": rounds,
        "wall_s": {k: round(v, 2) for k, v in wall.items()},
        "all_wall_s": {k: [round(r["wall"], 2) for r in v] for k, v in runs.items()},
        "speed_up_2_workers": round(speed_up, 3), "efficiency_per_worker": round(speed_up / 2, 3),
        "queue_overhead_per_chunk_s": round(queue, 3),
        "chunking_cost_per_chunk_s": round(chunking, 3),
        "enqueue_to_first_start_s": round(statistics.median(
            r["enqueue_to_start"] for k in (ONE_CORE_RUNS[2][0], ONE_CORE_RUNS[3][0]) for r in runs[k]), 3),
        "worker_idle_gap_between_chunks_s": {"median": round(statistics.median(gaps), 3) if gaps else None,
                                             "max": round(max(gaps), 3) if gaps else None, "samples": len(gaps)},
        "chunk_s_celery_1": [[round(x, 2) for x in r["chunk_seconds"]] for r in celery1],
        "fixed_s": round(fixed, 2), "encode_s_per_output_s_one_core": round(rate, 3),
        "chunk_encode_s_per_padded_s_one_core": round(chunk_rate, 3),
        "padding_s_per_chunk": round((sum(spans) - float(duration)) / len(spans), 2),
        "projection": scale_projection(costs, profile),
    }


def padded_seconds(frames: int, chunk_frames: int | None, profile: str, fps: Fraction = Fraction(30)) -> list[float]:
    """The seconds each chunk's encode covers, padding included, as the job runner pads them."""
    from engines.ffmpeg.profiles import get_profile
    from engines.jobs.runner import padded_window
    from engines.planning.chunks import plan_chunks

    prof = get_profile(profile)
    chunks = plan_chunks(frames, prof.gop_frames(fps), chunk_frames)
    if len(chunks) == 1:
        return [float(Fraction(frames) / fps)]
    return [float(Fraction(b - a) / fps) for a, b in (padded_window(c, prof, fps, frames) for c in chunks)]


def scale_projection(costs: dict[str, float], profile: str, fps: Fraction = Fraction(30)) -> dict:
    """Wall time on M one-core machines for a project of D seconds, chunked as the job runner
    chunks it (whole GOPs, a short last chunk merged, each chunk padded by its pre-roll and the
    preset's lookahead): fixed + the makespan of the chunks handed to the first free machine.
    A single chunk costs its seconds x the one-pass rate; a chunk of several, its padded seconds
    x the same rate + the queue's overhead. Conservative: the measured chunks cost less per
    padded second than the one pass (a window's graph holds only the clips it shows), which the
    model leaves out so that it never promises more than one machine per machine.
    Efficiency = one machine's one pass / (M x wall); the chunk length shown has the least wall."""
    import heapq

    from engines.ffmpeg.profiles import get_profile

    gop = get_profile(profile).gop_frames(fps)
    out: dict[str, dict] = {}
    for d in (60, 600, 3600):
        frames = int(d * fps)
        one = costs["fixed_s"] + d * costs["rate"]
        for m in (1, 2, 10, 100):
            best = None
            for gops in range(1, frames // gop + 1):
                spans = padded_seconds(frames, gops * gop, profile, fps)
                if len(spans) == 1:
                    times = [spans[0] * costs["rate"]]
                else:
                    times = [x * costs["rate"] + costs["queue_s"] for x in spans]
                free = [0.0] * min(m, len(times))
                for t in times:
                    heapq.heappush(free, heapq.heappop(free) + t)
                wall = costs["fixed_s"] + max(free)
                if best is None or wall < best[0] - 1e-9:
                    best = (wall, gops * gop / fps if len(times) > 1 else d, len(times))
                if len(times) == 1:
                    break  # longer chunks are the same single chunk
            wall, length, n = best  # type: ignore[misc]
            out[f"{d} s on {m}"] = {"chunk_s": float(length), "chunks": n, "wall_s": round(wall, 1),
                                    "speed_up": round(one / wall, 2), "efficiency": round(one / wall / m, 2)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="social_1080p")
    ap.add_argument("--chunk-seconds", default="10")
    ap.add_argument("--only", choices=("shared", "one-core"), help="one of the two comparisons (default: both)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of the one-core comparison (medians)")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    from engines.ffmpeg.runner import FFmpegRunner

    make_media(OUT, FFmpegRunner())
    project = OUT / "project60.json"
    doc = sixty_seconds()
    project.write_text(json.dumps(doc, indent=2))
    report: dict = {}
    if args.only in (None, "shared"):
        report["shared_machine"] = shared_machine(project, args.profile, args.chunk_seconds)
        print(json.dumps(report["shared_machine"], indent=2), flush=True)
    if args.only in (None, "one-core"):
        from engines.model.project import Project
        from engines.model.timeline import place_project

        timeline = place_project(Project.model_validate(doc))
        duration = Fraction(timeline.frames) / timeline.fps
        report["one_core_machines"] = one_core_machines(project, args.profile, args.chunk_seconds, args.rounds,
                                                        duration)
        print(json.dumps(report["one_core_machines"], indent=2), flush=True)
    (OUT / f"report{'-' + args.only if args.only else ''}.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
