"""Render bench: cutlite against hand-written ffmpeg commands doing the same edit, and the floor.

The reference project is 30 s, three tracks: a main track with a crossfade, a 1.5x speed clip and a
colour filter; a logo fading in and a title over it; a music bed with volume automation. Each
profile is timed on four sides, every side once a round in an order rotated every round (machine
noise hits all of them), ratios taken within a round, medians printed (wall and CPU, user + system,
steadier on a shared box):

- ``cutlite``: end to end, probe + plan + render + frame-count check;
- ``best``: the best hand-written command found (``hand_written_best``: the crossfade blends only
  its overlap, the logo is decoded once): the yardstick;
- ``plain``: the command as one writes it first (``hand_written``: ``xfade`` over the whole clips);
- ``floor``: cutlite's own output decoded and encoded again with the same arguments, nothing else.

All hand-written commands use the profile's own encoder and audio arguments. PSNR between the
outputs shows they are the same edit.

    python bench/bench_render.py [--rounds 3] [--profiles social_1080p,draft_360p] [--sides cutlite,best,floor]
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


def hand_written_best(folder: Path, profile_name: str, output: Path) -> list[str]:
    """The best hand-written command found for the same edit: the crossfade blends only its
    overlap (``split`` + ``trim`` around the 1 s, ``xfade`` on those 30 frames alone, ``concat`` for
    the rest), the logo is decoded once and looped as a filter (``loop``), its opacity a table on
    alpha (``lut``) instead of ``colorchannelmixer`` (an RGB round trip), the title drawn only on
    its frames. Same sizes, rates and encoder arguments as the plain command."""
    p = get_profile(profile_name)
    w, h = p.output_size(1920, 1080)
    fps = p.output_fps(Fraction(30))
    r = f"{fps.numerator}/{fps.denominator}"
    enc = resolve_encoder(p, "cpu", fps)
    logo = round(h * 0.15) // 2 * 2
    lx, ly = round(w * 0.85 - logo / 2), round(h * 0.08 - logo / 2)
    size = round(72 * h / 1080)
    n = int(fps)  # frames a second: the 1 s overlap
    m = folder / "media"
    (folder / "title.txt").write_text("Summer Sale")
    graph = ";".join([
        f"[0:v]fps={r},scale={w}:{h},setsar=1,format=yuv420p,split[c1a][c1b]",
        f"[c1a]trim=end_frame={9 * n}[c1]",
        f"[c1b]trim=start_frame={9 * n},setpts=PTS-STARTPTS[c1x]",
        f"[1:v]setpts=PTS/1.5,fps={r},scale={w}:{h},setsar=1,eq=brightness=0.05:contrast=1.1:saturation=1.2,"
        f"format=yuv420p,split[c2a][c2b]",
        f"[c2a]trim=end_frame={n}[c2x]",
        f"[c2b]trim=start_frame={n},setpts=PTS-STARTPTS[c2]",
        "[c1x][c2x]xfade=transition=fade:duration=1:offset=0,format=yuv420p[x]",
        f"[2:v]fps={r},scale={w}:{h},setsar=1,format=yuv420p[c3]",
        "[c1][x][c2][c3]concat=n=4:v=1:a=0[main]",
        f"[3:v]scale={logo}:{logo},format=yuva420p,loop=loop={17 * n - 1}:size=1,setpts=N/({r})/TB,"
        "fade=t=in:st=0:d=0.5:alpha=1,lut=a=val*0.8,setpts=PTS+3/TB[logo]",
        f"[main][logo]overlay=x={lx}:y={ly}:eof_action=pass[ov]",
        f"[ov]drawtext=textfile=title.txt:fontfile={DEFAULT_FONT}:fontsize={size}:fontcolor=white:"
        f"x={w // 2}-text_w/2:y={round(h * 0.85)}-text_h/2:enable='between(t,1,5)'[vout]",
        "[0:a]afade=t=out:st=9:d=1[a1]",
        "[1:a]atempo=1.5,volume=0.8,afade=t=in:st=0:d=1,adelay=9000:all=1[a2]",
        "[2:a]adelay=19000:all=1[a3]",
        "[4:a]volume='if(lt(t,1),0.3*t,if(lt(t,28),0.3,0.3-0.15*(t-28)))':eval=frame[a4]",
        "[a1][a2][a3][a4]amix=inputs=4:normalize=0:duration=longest,atrim=end=30[aout]",
    ])
    return ["-y", "-ss", "0", "-t", "10", "-i", str(m / "beach.mp4"),
            "-ss", "0.5", "-t", "15", "-i", str(m / "city.mp4"),
            "-ss", "10", "-t", "11", "-i", str(m / "beach.mp4"),
            "-i", str(m / "logo.png"),
            "-t", "30", "-i", str(m / "music.m4a"),
            "-filter_complex", graph, "-map", "[vout]", "-map", "[aout]",
            "-c:v", enc.encoder, *enc.codec_args, *p.audio_args,
            "-movflags", "+faststart", str(output)]


def floor_command(profile_name: str, source: Path, output: Path) -> list[str]:
    """The floor: cutlite's own output decoded and encoded again with the same arguments, nothing
    else (no filters): what any command making this output must at least spend."""
    p = get_profile(profile_name)
    fps = p.output_fps(Fraction(30))
    enc = resolve_encoder(p, "cpu", fps)
    return ["-y", "-i", str(source), "-map", "0:v", "-map", "0:a", "-c:v", enc.encoder, *enc.codec_args,
            *p.audio_args, "-movflags", "+faststart", str(output)]


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


SIDES = ("cutlite", "best", "plain", "floor")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--profiles", default="social_1080p,draft_360p")
    ap.add_argument("--sides", default=",".join(SIDES), help="which of " + ", ".join(SIDES) + " to time")
    args = ap.parse_args()
    sides = [s for s in SIDES if s in args.sides.split(",")]
    assert "cutlite" in sides, "the ratios are cutlite's"
    runner = FFmpegRunner()
    service = RenderService(runner)
    OUT.mkdir(parents=True, exist_ok=True)
    make_media(OUT, runner)
    project_file = OUT / "reference.json"
    project_file.write_text(json.dumps(reference_project(), indent=2))
    report = []
    for profile in args.profiles.split(","):
        files = {side: OUT / f"{side}_{profile}.mp4" for side in SIDES}
        # the floor re-encodes cutlite's output: a copy made once, so every side's input stays put
        source = OUT / f"floor_source_{profile}.mp4"
        service.render(service.plan_project(project_file, profile, "cpu"), source)

        def ours() -> None:
            service.render(service.plan_project(project_file, profile, "cpu"), files["cutlite"])

        # the runner adds "-v warning -progress pipe:1", as it does for cutlite
        work = {
            "cutlite": ours,
            "best": lambda: runner.run(hand_written_best(OUT, profile, files["best"]), stage="hand-written", cwd=OUT),
            "plain": lambda: runner.run(hand_written(OUT, profile, files["plain"]), stage="hand-written", cwd=OUT),
            "floor": lambda: runner.run(floor_command(profile, source, files["floor"]), stage="floor", cwd=OUT),
        }
        times: dict[str, list[tuple[float, float]]] = {side: [] for side in sides}
        for k in range(args.rounds):
            # every side once a round, the order rotated every round: a slow spell of the shared
            # box hits all of them; ratios are taken within a round
            for side in sides[k % len(sides):] + sides[:k % len(sides)]:
                times[side].append(timed(work[side]))
        row: dict = {"profile": profile, "rounds": args.rounds}
        for side in sides:
            row[f"{side}_s"] = round(statistics.median(w for w, _ in times[side]), 2)
        for side in sides[1:]:
            wall = [m[0] / o[0] for m, o in zip(times["cutlite"], times[side])]
            cpu = [m[1] / o[1] for m, o in zip(times["cutlite"], times[side])]
            row[f"vs_{side}"] = {"ratio": round(statistics.median(wall), 3),
                                 "range": [round(min(wall), 3), round(max(wall), 3)],
                                 "cpu_ratio": round(statistics.median(cpu), 3)}
        if "best" in sides and "floor" in sides:
            row["best_vs_floor"] = round(statistics.median(b[0] / f[0] for b, f in zip(times["best"], times["floor"])), 3)
        row["frames"] = {side: count_video_frames(files[side]) for side in sides}
        row["psnr_db"] = {side: round(psnr(runner, files["cutlite"], files[side]), 1) for side in sides[1:]
                          if side != "floor"}
        report.append(row)
        print(json.dumps(row), flush=True)
    print("\nprofile        yardstick   cutlite / yardstick, wall (min-max)   CPU ratio   seconds (cutlite, yardstick)")
    for r in report:
        for side in sides[1:]:
            v = r[f"vs_{side}"]
            lo, hi = v["range"]
            print(f"{r['profile']:<14} {side:<10}  {v['ratio']:>5.3f} ({lo:.3f}-{hi:.3f})"
                  f"                 {v['cpu_ratio']:>5.3f}       {r['cutlite_s']:.2f}, {r[side + '_s']:.2f}")
    (OUT / "bench_render.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
