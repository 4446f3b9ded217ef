"""Jobs bench: chunked renders as ratios to cutlite's own single pass, the chunks' padding cost
and their seams' quality, and an incremental re-render after a one-clip edit.

The project is bench_render's 30 s three-track reference at social_1080p. Every round renders
the single pass (``RenderService.render``: one ffmpeg, the yardstick) and then each chunked job
from an empty state folder (no chunk cache): 10 s chunks on 1 and 2 workers, and the other
chunk lengths (``--chunk-seconds``) on 2 workers; the printed figure per case is the median over
rounds of its ratio to that round's single pass. A chunked job does more than the single pass:
each chunk is encoded with a pre-roll and the preset's lookahead as post-roll (``padding``: the
frames encoded over the frames delivered, exact), cut by stream copy and joined, and its sound
is measured for loudness and encoded once.

Seams: a lossless render of the same plan is the truth; each output's per-frame PSNR against it
(ffmpeg ``psnr``) is read at the frames around every seam (2 before, 3 from it) and compared with
the single pass's at the same frames: ``seam_mean_db`` is the worst seam's mean difference over
those five frames, ``seam_db`` the worst single frame's (negative: the chunked output is further
from the truth there).

The incremental run reuses the state of the 10 s, 1-worker job after changing the colour
filter of the last clip (19..30 s).

    python bench/bench_jobs.py [--rounds 2] [--profile social_1080p] [--chunk-seconds 10,20]
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_render import OUT, hand_written_best, make_media, reference_project  # noqa: E402

from engines.ffmpeg.profiles import get_profile  # noqa: E402
from engines.ffmpeg.runner import FFmpegRunner  # noqa: E402
from engines.jobs.runner import padded_window  # noqa: E402
from engines.media_v2.library import MediaLibrary  # noqa: E402
from engines.media_v2.registry import Registry  # noqa: E402
from engines.media_v2.storage import LocalStore  # noqa: E402
from engines.planning.chunks import chunk_frames_of, plan_chunks  # noqa: E402
from engines.video_render.service import RenderService  # noqa: E402

SEAM_FRAMES = range(-2, 3)  # around each seam: the last 2 frames of a chunk, the first 3 of the next


def service_in(home: Path, runner: FFmpegRunner) -> RenderService:
    shutil.rmtree(home, ignore_errors=True)
    library = MediaLibrary(Registry(f"sqlite:///{home / 'cutlite.db'}"), stores={"bench": LocalStore(home / "objects"),
                                                                                 "dev": LocalStore(home / "objects")})
    return RenderService(runner, library=library)


def timed_job(svc: RenderService, project: Path, profile: str, chunk: str, workers: int,
              output: Path | None = None) -> tuple[float, dict]:
    t = time.perf_counter()
    job, _ = svc.submit_job(project, profile, options={"chunk_seconds": chunk}, hw="cpu",
                            output=str(output) if output else None)
    done = svc.run_job(job.id, workers=workers)
    elapsed = time.perf_counter() - t
    assert done.state == "COMPLETED", done.error
    return elapsed, svc.job_view(job.id)


def padding(frames: int, fps: Fraction, profile_name: str, seconds: str) -> float:
    """Frames encoded over frames delivered for chunks of ``seconds``."""
    profile = get_profile(profile_name)
    chunks = plan_chunks(frames, profile.gop_frames(fps), chunk_frames_of(seconds, fps))
    if len(chunks) == 1:
        return 1.0
    encoded = 0
    for c in chunks:
        start, end = padded_window(c, profile, fps, frames)
        encoded += end - start
    return encoded / frames


def frame_psnr(runner: FFmpegRunner, output: Path, truth: Path, stats: Path) -> list[float]:
    """Per-frame PSNR (Y, U, V averaged by ffmpeg) of ``output`` against ``truth``."""
    runner.run(["-i", str(output), "-i", str(truth), "-lavfi", f"[0:v][1:v]psnr=stats_file={stats.name}",
                "-f", "null", "-"], stage="psnr", cwd=stats.parent)
    values = []
    for line in stats.read_text().splitlines():
        m = re.search(r"psnr_avg:([\d.]+|inf)", line)
        values.append(99.0 if not m or m.group(1) == "inf" else float(m.group(1)))
    return values


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--profile", default="social_1080p")
    ap.add_argument("--chunk-seconds", default="10,20", help="chunk lengths run on 2 workers (10 also on 1)")
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

    cases = [("10", 1)] + [(s, 2) for s in args.chunk_seconds.split(",")]
    ratios: dict[str, list[float]] = {}
    seconds: dict[str, list[float]] = {"single": [], "best": []}
    to_best: dict[str, list[float]] = {}
    stages: dict[str, dict] = {}
    incremental: list[float] = []
    reused = chunks = 0
    outputs: dict[str, Path] = {}
    for k in range(args.rounds):
        # a state folder of its own per job and round: engines are cached by database URL
        svc = service_in(OUT / f"state_single_{k}", runner)
        t = time.perf_counter()
        plan = svc.plan_project(project, args.profile, "cpu")
        svc.render(plan, OUT / "single.mp4")
        single = time.perf_counter() - t
        seconds["single"].append(single)
        # the best hand-written one-pass command (bench_render.hand_written_best), the same round
        t = time.perf_counter()
        runner.run(hand_written_best(OUT, args.profile, OUT / "best.mp4"), stage="hand-written", cwd=OUT)
        best = time.perf_counter() - t
        seconds["best"].append(best)
        for chunk, workers in cases:
            name = f"{chunk}s x {workers} worker{'s' if workers > 1 else ''}"
            svc = service_in(OUT / f"state_{chunk}_{workers}_{k}", runner)
            outputs[name] = OUT / f"chunked_{chunk}_{workers}.mp4"
            elapsed, view = timed_job(svc, project, args.profile, chunk, workers, outputs[name])
            ratios.setdefault(name, []).append(elapsed / single)
            to_best.setdefault(name, []).append(elapsed / best)
            seconds.setdefault(name, []).append(elapsed)
            stages[name] = view.get("timings") or {}
            if (chunk, workers) == ("10", 1):
                elapsed, view = timed_job(svc, edited, args.profile, chunk, 1)
                incremental.append(elapsed / single)
                reused = sum(c["reused"] for c in view["chunks"])
                chunks = len(view["chunks"])

    # seams: each output against a lossless render of the same plan, next to the single pass
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import lossless  # the tests' truth: the same plan at x264 qp 0
    truth = OUT / "truth.mp4"
    svc = service_in(OUT / "state_truth", runner)
    plan = svc.plan_project(project, args.profile, "cpu")
    svc.render(lossless(plan), truth)
    q_single = frame_psnr(runner, OUT / "single.mp4", truth, OUT / "psnr_single.log")
    fps = Fraction(plan.fps)
    report = {"profile": args.profile, "rounds": args.rounds,
              "single_s": round(statistics.median(seconds["single"]), 2),
              "best_hand_written_s": round(statistics.median(seconds["best"]), 2), "cases": []}
    for chunk, workers in cases:
        name = f"{chunk}s x {workers} worker{'s' if workers > 1 else ''}"
        q = frame_psnr(runner, outputs[name], truth, OUT / f"psnr_{chunk}_{workers}.log")
        seams = [c.start_frame for c in plan_chunks(plan.frames, get_profile(args.profile).gop_frames(fps),
                                                    chunk_frames_of(chunk, fps))][1:]
        around = [[q[s + d] - q_single[s + d] for d in SEAM_FRAMES if 0 <= s + d < len(q)] for s in seams]
        diffs = [x for seam in around for x in seam]
        report["cases"].append({
            "case": name, "seconds": round(statistics.median(seconds[name]), 2),
            "ratio_to_single": round(statistics.median(ratios[name]), 3),
            "ratio_to_best_hand_written": round(statistics.median(to_best[name]), 3),
            "padding": round(padding(plan.frames, fps, args.profile, chunk), 3), "seams": len(seams),
            "seam_db": round(min(diffs), 2) if diffs else None,
            "seam_mean_db": round(min(statistics.mean(a) for a in around), 2) if diffs else None,
            "mean_db": round(statistics.mean(q) - statistics.mean(q_single), 2),
            "stages_s": stages[name]})
    report["incremental"] = {"ratio_to_single": round(statistics.median(incremental), 3),
                             "chunks_reused": f"{reused}/{chunks}"}
    report["padding_by_chunk_seconds"] = {s: round(padding(plan.frames, fps, args.profile, s), 3)
                                          for s in ("2", "5", "10", "15", "20", "30")}
    print(json.dumps(report, indent=2))
    print(f"\n{args.profile}: single pass {report['single_s']:.2f} s, best hand-written command "
          f"{report['best_hand_written_s']:.2f} s (medians of {args.rounds})")
    print("case                  ratio   to best   padding   seams   worst seam (5 frames, 1 frame) vs single   all frames")
    for c in report["cases"]:
        seam = f"{c['seam_mean_db']} dB, {c['seam_db']} dB" if c["seams"] else "-"
        print(f"{c['case']:<20} {c['ratio_to_single']:>6.3f}   {c['ratio_to_best_hand_written']:>7.3f}   "
              f"{c['padding']:>7.3f}   {c['seams']:>5}   "
              f"{seam:>28}{'':>14}{c['mean_db']:>6} dB")
    print(f"incremental (one clip changed): {report['incremental']['ratio_to_single']:.3f}, chunks reused "
          f"{report['incremental']['chunks_reused']}")
    (OUT / "bench_jobs.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
