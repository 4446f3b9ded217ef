"""Batch and stills bench: a template rendered for N rows, and stills, against yardsticks in the same run.

- Batch: ``cutlite batch`` of a 10 s template (a 720p clip, a title with the row's name, a music bed)
  at draft_360p for ``--rows`` rows, in one process, against the same rows as hand-written single
  ffmpeg commands (one per row, the same scale, title, encoder settings and audio), run two at a time.
  Printed: each side's wall time and the ratio (goal <= 1.10x), frames checked on every output.
- Still, cold: a new ``cutlite still`` process for one 1080p frame (social_1080p) of the template,
  median of ``--still-runs`` (goal <= 0.4 s), against ``ffmpeg`` extracting the same source frame.

    python bench/bench_batch.py [--rows 50] [--still-runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50)
    ap.add_argument("--still-runs", type=int, default=7)
    args = ap.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "media").mkdir(parents=True)
    runner = FFmpegRunner()
    samples.make_video(OUT / "media" / "clip.mp4", seconds=11, width=1280, height=720, pattern="testsrc2",
                       tone_hz=None, runner=runner)
    samples.make_tone(OUT / "media" / "music.m4a", seconds=11, tone_hz=220, runner=runner)
    (OUT / "template.json").write_text(json.dumps(template()))
    rows = [{"NAME": f"row{i:03d}"} for i in range(args.rows)]
    (OUT / "rows.json").write_text(json.dumps(rows))
    env = {**os.environ, "CUTLITE_HOME": str(OUT / "home")}

    # the yardstick: one command per row, two at a time
    (OUT / "hand").mkdir()
    t = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda r: runner.run(hand_written(OUT, r["NAME"], OUT / "hand" / f"{r['NAME']}.mp4"),
                                           stage="bench"), rows))
    hand = time.monotonic() - t
    assert all(count_video_frames(OUT / "hand" / f"{r['NAME']}.mp4") == 300 for r in rows)

    t = time.monotonic()
    done = subprocess.run([*CLI, "batch", str(OUT / "template.json"), str(OUT / "rows.json"), "--profile",
                           "draft_360p", "-o", str(OUT / "cutlite" / "{NAME}.mp4"), "--workers", "2", "--json"],
                          env=env, capture_output=True, text=True)
    ours = time.monotonic() - t
    assert done.returncode == 0, done.stderr[-2000:]
    manifest = json.loads(done.stdout)
    assert manifest["completed"] == len(rows)
    assert all(count_video_frames(OUT / "cutlite" / f"{r['NAME']}.mp4") == 300 for r in rows)
    print(f"batch of {len(rows)} rows x 10 s at draft_360p: cutlite {ours:.2f} s, hand-written commands two at "
          f"a time {hand:.2f} s: {ours / hand:.3f}x (goal <= 1.10x)")

    # a cold still: a new process for one 1080p frame, against ffmpeg extracting the source frame
    still_times, ff_times = [], []
    for i in range(args.still_runs):
        t = time.monotonic()
        s = subprocess.run([*CLI, "still", str(OUT / "template.json"), "--var", "NAME=still", "--at", "4.5",
                            "-o", str(OUT / f"still{i}.png"), "--json"], env=env, capture_output=True, text=True)
        still_times.append(time.monotonic() - t)
        assert s.returncode == 0, s.stderr
        t = time.monotonic()
        runner.run(["-y", "-ss", "4.5", "-i", str(OUT / "media" / "clip.mp4"), "-frames:v", "1", "-vf",
                    "scale=1920:1080", str(OUT / f"ff{i}.png")], stage="bench")
        ff_times.append(time.monotonic() - t)
    print(f"cold `cutlite still` of a 1080p frame: median {statistics.median(still_times):.3f} s over "
          f"{len(still_times)} runs (goal <= 0.4 s); ffmpeg alone extracting and scaling the source frame: "
          f"{statistics.median(ff_times):.3f} s")


if __name__ == "__main__":
    main()
