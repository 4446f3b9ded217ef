"""Render bench: cutlite vs one hand-written ffmpeg command doing the same edit.

The reference project is 30 s, three tracks: a main track with a crossfade, a 1.5x speed clip and a
colour filter; a logo fading in and a title over it; a music bed with volume automation. For each
profile both renders run as a pair in the same process (``--rounds`` pairs, the order swapped each
round), so machine noise hits both; the printed figure is the median of the pairs' ratios (cutlite
end to end, i.e. probe + plan + render, over the hand-written command), wall and CPU (user +
system, steadier on a shared box). PSNR between the two outputs shows they are the same edit.

    python bench/bench_render.py [--rounds 3] [--profiles social_1080p,draft_360p]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.ffmpeg import samples  # noqa: E402
from engines.ffmpeg.probe import count_video_frames  # noqa: E402
from engines.ffmpeg.profiles import get_profile, resolve_encoder  # noqa: E402
from engines.ffmpeg.runner import FFmpegRunner  # noqa: E402
from engines.rendering.sources import DEFAULT_FONT  # noqa: E402
from engines.video_render.service import RenderService  # noqa: E402

OUT = ROOT / "bench" / "out"


def reference_project() -> dict:
    return {
        "schema_version": 1, "id": "bench-ref", "tenant": "bench", "env": "dev",
        "settings": {"width": 1920, "height": 1080, "fps": 30, "sample_rate": 48000},
        "assets": {"beach": {"path": "media/beach.mp4"}, "city": {"path": "media/city.mp4"},
                   "logo": {"path": "media/logo.png"}, "music": {"path": "media/music.m4a"}},
        "tracks": [
            {"id": "main", "kind": "video", "clips": [
                {"id": "c1", "asset": "beach", "start": 0, "source_in": 0, "source_out": 10},
                {"id": "c2", "asset": "city", "start": 9, "source_in": "1/2", "source_out": "31/2", "speed": 1.5,
                 "volume": 0.8, "transition_in": {"type": "crossfade", "duration": 1},
                 "filters": [{"type": "color", "brightness": 0.05, "contrast": 1.1, "saturation": 1.2}]},
                {"id": "c3", "asset": "beach", "start": 19, "source_in": 10, "source_out": 21},
            ]},
            {"id": "over", "kind": "overlay", "clips": [
                {"id": "l1", "asset": "logo", "start": 3, "duration": 17, "x": 0.85, "y": 0.08, "scale": 0.15,
                 "opacity": [[0, 0], [0.5, 0.8]]},
                {"id": "t1", "text": "Summer Sale", "start": 1, "duration": 4, "x": 0.5, "y": 0.85,
                 "font_size": 72},
            ]},
            {"id": "bed", "kind": "audio", "clips": [
                {"id": "m1", "asset": "music", "start": 0, "source_in": 0, "source_out": 30,
                 "volume": [[0, 0], [1, 0.3], [28, 0.3], [30, 0]]},
            ]},
        ],
    }


def make_media(folder: Path, runner: FFmpegRunner) -> None:
    media = folder / "media"
    if (media / "music.m4a").exists():
        return
    media.mkdir(parents=True, exist_ok=True)
    samples.make_video(media / "beach.mp4", seconds=22, width=1280, height=720, pattern="testsrc2", runner=runner)
    samples.make_video(media / "city.mp4", seconds=16, width=1280, height=720, pattern="smptehdbars",
                       tone_hz=660, runner=runner)
    samples.make_image(media / "logo.png", width=256, height=256, color="orange", runner=runner)
    samples.make_tone(media / "music.m4a", seconds=31, tone_hz=220, runner=runner)


def hand_written(folder: Path, profile_name: str, output: Path) -> list[str]:
    """What an ffmpeg user would write by hand for the same edit (same sizes, rates, encoder)."""
    p = get_profile(profile_name)
    w, h = p.output_size(1920, 1080)
    fps = p.output_fps(Fraction(30))
    r = f"{fps.numerator}/{fps.denominator}"
    enc = resolve_encoder(p, "cpu", fps)
    logo = round(h * 0.15) // 2 * 2
    lx, ly = round(w * 0.85 - logo / 2), round(h * 0.08 - logo / 2)
    size = round(72 * h / 1080)
    m = folder / "media"
    (folder / "title.txt").write_text("Summer Sale")
    graph = ";".join([
        f"[0:v]fps={r},scale={w}:{h},setsar=1,format=yuv420p[c1]",
        f"[1:v]setpts=PTS/1.5,fps={r},scale={w}:{h},setsar=1,eq=brightness=0.05:contrast=1.1:saturation=1.2,"
        f"format=yuv420p[c2]",
        f"[2:v]fps={r},scale={w}:{h},setsar=1,format=yuv420p[c3]",
        "[c1][c2]xfade=transition=fade:duration=1:offset=9[x]",
        "[x][c3]concat=n=2:v=1:a=0[main]",
        f"[3:v]scale={logo}:{logo},format=yuva420p,fade=t=in:st=0:d=0.5:alpha=1,colorchannelmixer=aa=0.8,"
        "setpts=PTS+3/TB[logo]",
        f"[main][logo]overlay=x={lx}:y={ly}:eof_action=pass[ov]",
        f"[ov]drawtext=textfile=title.txt:fontfile={DEFAULT_FONT}:fontsize={size}:fontcolor=white:"
        f"x={w // 2}-text_w/2:y={round(h * 0.85)}-text_h/2:enable='between(t,1,5)',format=yuv420p[vout]",
        "[0:a]afade=t=out:st=9:d=1[a1]",
        "[1:a]atempo=1.5,volume=0.8,afade=t=in:st=0:d=1,adelay=9000:all=1[a2]",
        "[2:a]adelay=19000:all=1[a3]",
        "[4:a]volume='if(lt(t,1),0.3*t,if(lt(t,28),0.3,0.3-0.15*(t-28)))':eval=frame[a4]",
        "[a1][a2][a3][a4]amix=inputs=4:normalize=0:duration=longest,atrim=end=30[aout]",
    ])
    return ["-y", "-ss", "0", "-t", "10", "-i", str(m / "beach.mp4"),
            "-ss", "0.5", "-t", "15", "-i", str(m / "city.mp4"),
            "-ss", "10", "-t", "11", "-i", str(m / "beach.mp4"),
            "-loop", "1", "-framerate", r, "-t", "17", "-i", str(m / "logo.png"),
            "-t", "30", "-i", str(m / "music.m4a"),
            "-filter_complex", graph, "-map", "[vout]", "-map", "[aout]",
            "-c:v", enc.encoder, *enc.codec_args, *p.audio_args,
            "-movflags", "+faststart", str(output)]


def psnr(runner: FFmpegRunner, a: Path, b: Path) -> float:
    res = runner.run(["-v", "info", "-i", str(a), "-i", str(b), "-lavfi", "[0:v][1:v]psnr", "-f", "null", "-"],
                     stage="psnr")
    m = re.search(r"average:([\d.]+|inf)", res.stderr_tail)
    return float("inf") if not m or m.group(1) == "inf" else float(m.group(1))


def timed(work) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process and its children: planning + ffmpeg) of ``work()``."""
    def cpu() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    t, c = time.perf_counter(), cpu()
    work()
    return time.perf_counter() - t, cpu() - c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--profiles", default="social_1080p,draft_360p")
    args = ap.parse_args()
    runner = FFmpegRunner()
    service = RenderService(runner)
    OUT.mkdir(parents=True, exist_ok=True)
    make_media(OUT, runner)
    project_file = OUT / "reference.json"
    project_file.write_text(json.dumps(reference_project(), indent=2))
    report = []
    for profile in args.profiles.split(","):
        mine, hand = OUT / f"cutlite_{profile}.mp4", OUT / f"hand_{profile}.mp4"

        def ours() -> None:
            service.render(service.plan_project(project_file, profile, "cpu"), mine)

        def theirs() -> None:
            # the runner adds "-v warning -progress pipe:1", as it does for cutlite
            runner.run(hand_written(OUT, profile, hand), stage="hand-written", cwd=OUT)

        pairs = []
        for k in range(args.rounds):
            # pairs, the order swapped every round: a slow spell of the shared box hits both sides
            first, second = (ours, theirs) if k % 2 == 0 else (theirs, ours)
            a, b = timed(first), timed(second)
            pairs.append((a, b) if k % 2 == 0 else (b, a))
        frames = (count_video_frames(mine), count_video_frames(hand))
        wall = [m[0] / h[0] for m, h in pairs]
        cpu = [m[1] / h[1] for m, h in pairs]
        row = {"profile": profile, "cutlite_s": round(statistics.median(m[0] for m, _ in pairs), 2),
               "hand_written_s": round(statistics.median(h[0] for _, h in pairs), 2),
               "ratio": round(statistics.median(wall), 3), "ratio_range": [round(min(wall), 3), round(max(wall), 3)],
               "cpu_ratio": round(statistics.median(cpu), 3),
               "frames": frames, "psnr_db": round(psnr(runner, mine, hand), 1), "rounds": args.rounds}
        report.append(row)
        print(json.dumps(row), flush=True)
    print("\nprofile        cutlite   hand-written   ratio (min-max)       CPU ratio   frames (cutlite, hand)   PSNR")
    for r in report:
        lo, hi = r["ratio_range"]
        print(f"{r['profile']:<14} {r['cutlite_s']:>6.2f} s   {r['hand_written_s']:>8.2f} s   {r['ratio']:>5.3f}"
              f" ({lo:.3f}-{hi:.3f})   {r['cpu_ratio']:>9.3f}   {str(r['frames']):<24} {r['psnr_db']} dB")
    (OUT / "bench_render.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
