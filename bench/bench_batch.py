"""Batch, stills and GIF bench: each against a yardstick timed in the same run.

- Batch: ``cutlite batch`` of a 10 s template (a 720p clip, a title with the row's name, a music bed)
  at draft_360p for ``--rows`` rows, in one process with ``--workers 2``, against the same rows as
  hand-written single ffmpeg commands (one per row, the same scale, title, encoder settings and
  audio), run two at a time. ``--rounds`` rounds, the order swapped each round; each round's cutlite
  state folder is new and set up (its database made) before the clock starts, as an installation's
  is. Printed: each round's times and ratio, and the median ratio (goal <= 1.10x); frames checked on
  every output.
- Still, cold: a new ``cutlite still`` process for one 1080p frame (social_1080p) with the clip's
  proxies ready (``cutlite proxies``), median of ``--still-runs`` (goal <= 0.4 s), interleaved with
  ``ffmpeg`` extracting and scaling the same source frame; wall and CPU (the process and its ffmpeg)
  medians, and ``--exact`` (the sources) for comparison.
- Still, warm: ``POST /video_render/stills`` to a running ``cutlite serve`` after a first request, at
  draft_360p (the studio's scrub frame) and social_1080p, median of ``--api-runs`` (goal <= 80 ms).
- GIF: ``cutlite render --profile gif_480p`` of the template against ffmpeg's default GIF
  (``ffmpeg -i clip -vf fps=15 out.gif``) of the same frames (a lossless render of them): sizes, and
  the PSNR of each against those frames (goal: smaller, and at least as good).

    python bench/bench_batch.py [--rows 50] [--rounds 3] [--still-runs 9] [--api-runs 15] [--only batch,still,api,gif]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.ffmpeg import samples  # noqa: E402
from engines.ffmpeg.probe import count_video_frames  # noqa: E402
from engines.ffmpeg.profiles import get_profile, resolve_encoder  # noqa: E402
from engines.ffmpeg.runner import FFmpegRunner  # noqa: E402
from engines.rendering.sources import DEFAULT_FONT  # noqa: E402

OUT = ROOT / "bench" / "out" / "batch"
CLI = [sys.executable, "-m", "engines.cli"]


def template() -> dict:
    return {"schema_version": 1, "id": "bench-batch", "tenant": "bench", "env": "dev",
            "settings": {"width": 1280, "height": 720, "fps": 30, "sample_rate": 48000},
            "variables": {"NAME": {"type": "text"}},
            "assets": {"clip": {"path": "media/clip.mp4"}, "music": {"path": "media/music.m4a"}},
            "tracks": [
                {"id": "v", "kind": "video", "clips": [
                    {"id": "c", "asset": "clip", "start": 0, "source_in": 0, "source_out": 10}]},
                {"id": "o", "kind": "overlay", "clips": [
                    {"id": "t", "text": "Hello {{ NAME }}", "start": 0, "duration": 10, "y": 0.8, "font_size": 64}]},
                {"id": "a", "kind": "audio", "clips": [
                    {"id": "m", "asset": "music", "start": 0, "source_in": 0, "source_out": 10}]}]}


def hand_written(folder: Path, name: str, out: Path) -> list[str]:
    """One ffmpeg command for one row at draft_360p's settings: scale, title, x264 and AAC as the profile."""
    profile = get_profile("draft_360p")
    enc = resolve_encoder(profile, "cpu", 30)
    text = folder / f"{name}.txt"
    text.write_text(f"Hello {name}")
    size = 64 * 360 / 720
    graph = (f"[0:v]scale=640:360,format=yuv420p,drawtext=textfile={text}:fontfile={DEFAULT_FONT}:expansion=none:"
             f"fontsize={size}:fontcolor=white:x=(w-text_w)/2:y=h*0.8-text_h/2[v];"
             "[1:a]aresample=48000,aformat=channel_layouts=stereo[a]")
    return ["-y", "-t", "10", "-i", str(folder / "media" / "clip.mp4"), "-t", "10", "-i",
            str(folder / "media" / "music.m4a"), "-filter_complex", graph, "-map", "[v]", "-map", "[a]",
            "-c:v", enc.encoder, *enc.codec_args, *profile.audio_args, "-movflags", "+faststart", str(out)]


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cli(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"cutlite {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


def bench_batch(runner: FFmpegRunner, rows_n: int, rounds: int) -> None:
    rows = [{"NAME": f"row{i:03d}"} for i in range(rows_n)]
    (OUT / "rows.json").write_text(json.dumps(rows))
    ratios, cpu_ratios = [], []
    for rnd in range(rounds):
        home, hand_dir, ours_dir = OUT / f"home-batch{rnd}", OUT / f"hand{rnd}", OUT / f"cutlite{rnd}"
        for d in (home, hand_dir, ours_dir):
            shutil.rmtree(d, ignore_errors=True)
        hand_dir.mkdir()
        env = {**os.environ, "CUTLITE_HOME": str(home)}
        cli("jobs", "list", "--json", env=env)  # the state folder set up (its database made), as installed

        def hand() -> float:
            t = time.monotonic()
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda r: runner.run(hand_written(OUT, r["NAME"], hand_dir / f"{r['NAME']}.mp4"),
                                                   stage="bench"), rows))
            return time.monotonic() - t

        def ours() -> float:
            t = time.monotonic()
            done = cli("batch", str(OUT / "template.json"), str(OUT / "rows.json"), "--profile", "draft_360p",
                       "-o", str(ours_dir / "{NAME}.mp4"), "--workers", "2", "--json", env=env)
            took = time.monotonic() - t
            assert json.loads(done.stdout)["completed"] == len(rows)
            return took

        times, cpu = {}, {}
        for side in (("hand", "ours") if rnd % 2 == 0 else ("ours", "hand")):
            c = children_cpu()
            times[side] = hand() if side == "hand" else ours()
            cpu[side] = children_cpu() - c
        assert all(count_video_frames(d / f"{r['NAME']}.mp4") == 300 for r in rows for d in (hand_dir, ours_dir))
        ratios.append(times["ours"] / times["hand"])
        cpu_ratios.append(cpu["ours"] / cpu["hand"])
        print(f"  round {rnd + 1}: cutlite {times['ours']:.2f} s ({cpu['ours']:.1f} s CPU), hand-written "
              f"{times['hand']:.2f} s ({cpu['hand']:.1f} s CPU): {ratios[-1]:.3f}x wall, {cpu_ratios[-1]:.3f}x CPU",
              flush=True)
        shutil.rmtree(hand_dir, ignore_errors=True)
        shutil.rmtree(ours_dir, ignore_errors=True)
    print(f"batch of {rows_n} rows x 10 s at draft_360p, --workers 2, against hand-written commands two at a "
          f"time: median {statistics.median(ratios):.3f}x over {rounds} round(s) "
          f"({min(ratios):.3f}-{max(ratios):.3f}; goal <= 1.10x); CPU {statistics.median(cpu_ratios):.3f}x", flush=True)


def stills_home() -> dict[str, str]:
    """A state folder where the clip is registered and its proxies are ready."""
    home = OUT / "home-stills"
    env = {**os.environ, "CUTLITE_HOME": str(home)}
    if not home.exists():
        for rung in ("draft_360p", "preview_720p"):
            cli("proxies", str(OUT / "template.json"), "--var", "NAME=still", "--profile", rung, "--json", env=env)
    return env


def bench_cold_still(runner: FFmpegRunner, runs: int) -> None:
    env = stills_home()
    cli("still", str(OUT / "template.json"), "--var", "NAME=still", "--at", "4.5", "-o", str(OUT / "warmup.png"),
        "--json", env=env)  # the probe notes written once, as any earlier command would have
    results: dict[str, list[tuple[float, float]]] = {"proxy": [], "exact": [], "ffmpeg": []}
    for i in range(runs):
        for kind in ("proxy", "ffmpeg", "exact") if i % 2 == 0 else ("exact", "ffmpeg", "proxy"):
            c, t = children_cpu(), time.monotonic()
            if kind == "ffmpeg":
                runner.run(["-y", "-ss", "4.5", "-i", str(OUT / "media" / "clip.mp4"), "-frames:v", "1", "-vf",
                            "scale=1920:1080", str(OUT / f"ff{i}.png")], stage="bench")
            else:
                done = cli("still", str(OUT / "template.json"), "--var", "NAME=still", "--at", "4.5",
                           "-o", str(OUT / f"still-{kind}{i}.png"), "--json", *(["--exact"] if kind == "exact" else []),
                           env=env)
                assert json.loads(done.stdout)["stills"][0]["frame"] == 135
            results[kind].append((time.monotonic() - t, children_cpu() - c))

    def med(kind: str, i: int) -> float:
        return statistics.median(x[i] for x in results[kind])

    print(f"cold `cutlite still` of a 1080p frame from ready proxies: median {med('proxy', 0):.3f} s wall, "
          f"{med('proxy', 1):.3f} s CPU over {runs} runs (goal <= 0.4 s); with --exact (the source) "
          f"{med('exact', 0):.3f} s wall, {med('exact', 1):.3f} s CPU; ffmpeg alone extracting and scaling the "
          f"source frame {med('ffmpeg', 0):.3f} s wall, {med('ffmpeg', 1):.3f} s CPU", flush=True)


def server_cpu(pid: int) -> float:
    """CPU seconds of a process and the children it waited for (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_api_still(runs: int) -> None:
    import httpx

    from engines.model.project import load_project

    env = {**stills_home(), "CUTLITE_LOCAL_ROOTS": str(OUT), "CUTLITE_RATE_LIMIT": "100000"}
    made = cli("keys", "create", "--tenant", "bench", "--env", "dev", "--role", "editor", "--json", env=env)
    secret = json.loads(made.stdout)["secret"]
    port = free_port()
    server = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        doc = load_project(OUT / "template.json", {"NAME": "still"}).canonical()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {secret}"}, timeout=60) as client:
            for profile in ("draft_360p", "social_1080p"):
                body = {"project": doc, "at": ["4.5"], "profile": profile}
                first = client.post("/video_render/stills", json=body)
                assert first.status_code == 200, first.text
                times, cpu = [], server_cpu(server.pid)
                for i in range(runs):
                    body["at"] = [str(4 + (i % 5) / 10)]  # a scrub: a new time each request
                    t = time.monotonic()
                    answer = client.post("/video_render/stills", json=body)
                    times.append(time.monotonic() - t)
                    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
                cpu = (server_cpu(server.pid) - cpu) / runs
                print(f"warm still through the API (POST /video_render/stills, {profile}): median "
                      f"{statistics.median(times) * 1000:.0f} ms over {runs} requests "
                      f"({min(times) * 1000:.0f}-{max(times) * 1000:.0f} ms; goal <= 80 ms); the server's CPU "
                      f"(its ffmpeg included) {cpu * 1000:.0f} ms a request", flush=True)
    finally:
        server.terminate()
        server.wait(10)


def mean_psnr(picture: Path, truth: Path) -> float:
    """Mean PSNR of ``picture``'s frames against ``truth``'s every other frame (15 of 30 fps), both
    decoded to RGB by PyAV (as ``tests/test_delivery_formats.py`` measures GIFs)."""
    import av
    import numpy as np

    def frames(path: Path) -> list:
        with av.open(str(path)) as c:
            return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]

    ours, ref = frames(picture), frames(truth)[::2]
    assert len(ours) == len(ref), (len(ours), len(ref))
    values = []
    for a, b in zip(ours, ref):
        mse = ((a.astype(float) - b.astype(float)) ** 2).mean()
        values.append(99.0 if mse == 0 else float(10 * np.log10(255 ** 2 / mse)))
    return float(np.mean(values))


def bench_gif(runner: FFmpegRunner) -> None:
    from engines.model.template import FilledTemplate
    from engines.rendering.renderer import Renderer

    env = {**os.environ, "CUTLITE_HOME": str(OUT / "home-gif")}
    ours = OUT / "ours.gif"
    cli("render", str(OUT / "template.json"), "--var", "NAME=gif", "--profile", "gif_480p", "-o", str(ours),
        "--json", env=env)
    renderer = Renderer()
    plan = renderer.plan_project(FilledTemplate(OUT / "template.json", {"NAME": "gif"}), "draft_480p", "cpu")
    args = list(plan.output_args)
    args[args.index("-crf"):args.index("-crf") + 2] = ["-qp", "0"]  # the frames themselves, losslessly
    del args[args.index("-profile:v"):args.index("-profile:v") + 2]
    truth = OUT / "truth.mp4"
    renderer.render(plan.model_copy(update={"output_args": args}), truth)
    default = OUT / "default.gif"
    runner.run(["-y", "-i", str(truth), "-vf", "fps=15", str(default)], stage="bench")
    q_ours, q_default = mean_psnr(ours, truth), mean_psnr(default, truth)
    size_ours, size_default = ours.stat().st_size, default.stat().st_size
    print(f"GIF of the 10 s template (854x480, 15 fps): cutlite {size_ours / 1e6:.2f} MB at {q_ours:.2f} dB PSNR; "
          f"ffmpeg's default GIF of the same frames {size_default / 1e6:.2f} MB at {q_default:.2f} dB: "
          f"{size_ours / size_default:.3f}x the size, {q_ours - q_default:+.2f} dB (goal: smaller, at least as good)",
          flush=True)

def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--still-runs", type=int, default=9)
    ap.add_argument("--api-runs", type=int, default=15)
    ap.add_argument("--only", default="batch,still,api,gif", help="which parts, comma-separated")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "media").mkdir(parents=True)
    runner = FFmpegRunner()
    samples.make_video(OUT / "media" / "clip.mp4", seconds=11, width=1280, height=720, pattern="testsrc2",
                       tone_hz=None, runner=runner)
    samples.make_tone(OUT / "media" / "music.m4a", seconds=11, tone_hz=220, runner=runner)
    (OUT / "template.json").write_text(json.dumps(template()))
    if "batch" in parts:
        bench_batch(runner, args.rows, args.rounds)
    if "still" in parts:
        bench_cold_still(runner, args.still_runs)
    if "api" in parts:
        bench_api_still(args.api_runs)
    if "gif" in parts:
        bench_gif(runner)


if __name__ == "__main__":
    main()
