"""Motion bench: a keyframed zoom-and-pan on every clip and a speed ramp, against no motion.

A 30 s 1080p timeline of five 6 s clips (``fit: cover``). The *still* project has no motion; the
*moving* one gives every clip a keyframed zoom (1 -> 1.3, ease in-out) and pan (x, y) and makes the
third clip a speed ramp (1 -> 2 -> 1 over its 6 s, playing the 9 s of source the still project plays
at a constant 1.5x). The yardstick for the filter choice is a hand-written ffmpeg command doing the
same zoom the usual way, ``scale`` with per-frame expressions and a ``crop`` that pans. All three run
in the same process, in pairs with the order rotated each round; the figures are medians of the
per-round ratios, wall and CPU (user + system of planning and ffmpeg).

    python bench/bench_motion.py [--rounds 3] [--profile social_1080p] [--breakdown]

Goal: moving / still <= 1.15 (wall and CPU).

``--breakdown`` splits each side's CPU into its filter graph (the plan's graph into ``-f null``: decode
and filters, no encoder) and its encoder (the side's own output decoded and encoded again at the
profile's settings: how much harder moving pictures are to encode), in rotated rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_render import timed  # noqa: E402

from engines.ffmpeg import samples  # noqa: E402
from engines.ffmpeg.probe import count_video_frames  # noqa: E402
from engines.ffmpeg.profiles import get_profile, resolve_encoder  # noqa: E402
from engines.ffmpeg.runner import FFmpegRunner  # noqa: E402
from engines.video_render.service import RenderService  # noqa: E402

OUT = ROOT / "bench" / "out"
CLIPS = 5
SECONDS = 6
RAMP = 2  # the clip that ramps


def source_range(i: int) -> tuple[Fraction, Fraction]:
    """Each clip's source range; the ramp clip plays 9 s (1.5x on average) of its source."""
    first = Fraction(i * 2)
    return first, first + (Fraction(9) if i == RAMP else Fraction(SECONDS))


def project(moving: bool) -> dict:
    clips = []
    for i in range(CLIPS):
        a, b = source_range(i)
        clip = {"id": f"c{i}", "asset": "src", "start": i * SECONDS, "source_in": str(a), "source_out": str(b),
                "fit": "cover"}
        if i == RAMP:
            clip["speed"] = [[0, 1], [3, 2], [6, 1]] if moving else 1.5
        if moving:
            clip["scale"] = [{"t": 0, "value": 1, "ease": "ease_in_out"}, [SECONDS, 1.3]]
            clip["x"] = [[0, 0.5], [SECONDS, 0.44 if i % 2 else 0.56]]
            clip["y"] = [[0, 0.5], [SECONDS, 0.47]]
        clips.append(clip)
    return {"schema_version": 1, "id": "bench-motion" if moving else "bench-still", "tenant": "bench", "env": "dev",
            "settings": {"width": 1920, "height": 1080, "fps": 30, "sample_rate": 48000},
            "assets": {"src": {"path": "media/motion_src.mp4"}},
            "tracks": [{"id": "main", "kind": "video", "clips": clips}]}


def hand_written(profile_name: str, output: Path) -> list[str]:
    """The zoom-and-pan as one writes it by hand: per clip, ``scale`` to the zoomed size with a
    per-frame expression, then a ``crop`` of the frame whose position pans; the ramp clip at its
    average speed (a hand-written ramp has no standard form)."""
    p = get_profile(profile_name)
    w, h = p.output_size(1920, 1080)
    fps = p.output_fps(Fraction(30))
    r = f"{fps.numerator}/{fps.denominator}"
    enc = resolve_encoder(p, "cpu", fps)
    src = OUT / "media" / "motion_src.mp4"
    inputs: list[str] = []
    chains = []
    for i in range(CLIPS):
        a, b = source_range(i)
        inputs += ["-ss", str(float(a)), "-t", str(float(b - a) + 0.25), "-i", str(src)]
        zoom = f"(1+0.3*(3*(t/{SECONDS})^2-2*(t/{SECONDS})^3))"  # an ease in-out
        x_end = 0.44 if i % 2 else 0.56
        speed = "setpts=PTS/1.5," if i == RAMP else ""
        chains.append(
            f"[{i}:v]{speed}fps={r},scale={w}:{h},setsar=1,"
            f"scale=w='2*trunc({w}*{zoom}/2)':h='2*trunc({h}*{zoom}/2)':eval=frame,"
            f"crop={w}:{h}:x='min(max(0,iw*(0.5+({x_end}-0.5)*t/{SECONDS})-{w}/2),iw-{w})'"
            f":y='min(max(0,ih*(0.5-0.03*t/{SECONDS})-{h}/2),ih-{h})',"
            f"trim=end_frame={SECONDS * 30},format=yuv420p[v{i}]")
    chains.append("".join(f"[v{i}]" for i in range(CLIPS)) + f"concat=n={CLIPS}:v=1:a=0[vout]")
    return ["-y", *inputs, "-filter_complex", ";".join(chains), "-map", "[vout]", "-an",
            "-c:v", enc.encoder, *enc.codec_args, "-movflags", "+faststart", str(output)]


def graph_only(service: RenderService, plan, runner: FFmpegRunner) -> None:
    """The plan's inputs and filter graph into ``-f null``: decoding and filters, no encoder."""
    from engines.rendering.renderer import write_work_folder
    with tempfile.TemporaryDirectory(prefix="bench-motion-") as work:
        write_work_folder(plan, Path(work))
        argv = plan.argv("-")
        cut = argv.index("-map")
        runner.run([*argv[:cut], "-map", "[vout]", "-f", "null", "-"], stage="bench", cwd=work)


def encoder_only(profile_name: str, source: Path, runner: FFmpegRunner) -> None:
    """``source`` decoded and encoded again at the profile's encoder settings (picture only)."""
    p = get_profile(profile_name)
    enc = resolve_encoder(p, "cpu", p.output_fps(Fraction(30)))
    runner.run(["-y", "-i", str(source), "-map", "0:v", "-c:v", enc.encoder, *enc.codec_args, "-f", "mp4",
                "/dev/null"], stage="bench")


def breakdown(service: RenderService, runner: FFmpegRunner, files: dict[bool, Path], outputs: dict[str, Path],
              args: argparse.Namespace) -> dict:
    plans = {moving: service.plan_project(files[moving], args.profile, "cpu") for moving in (False, True)}
    for moving, name in ((False, "still"), (True, "moving")):
        if not outputs[name].exists():
            service.render(plans[moving], outputs[name])
    jobs = {"graph_still": lambda: graph_only(service, plans[False], runner),
            "graph_moving": lambda: graph_only(service, plans[True], runner),
            "encode_still": lambda: encoder_only(args.profile, outputs["still"], runner),
            "encode_moving": lambda: encoder_only(args.profile, outputs["moving"], runner)}
    order = list(jobs)
    rounds = []
    for k in range(args.rounds):
        turn = order[k % 4:] + order[:k % 4]
        rounds.append({name: timed(jobs[name])[1] for name in turn})
    cpu = {k: round(statistics.median(r[k] for r in rounds), 2) for k in order}
    return {"cpu_seconds": cpu,
            "graph moving/still": round(statistics.median(r["graph_moving"] / r["graph_still"] for r in rounds), 3),
            "encode moving/still": round(statistics.median(r["encode_moving"] / r["encode_still"] for r in rounds), 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", default="social_1080p")
    ap.add_argument("--breakdown", action="store_true", help="the filter graph's and the encoder's shares")
    args = ap.parse_args()
    runner = FFmpegRunner()
    service = RenderService(runner)
    (OUT / "media").mkdir(parents=True, exist_ok=True)
    src = OUT / "media" / "motion_src.mp4"
    if not src.exists():
        samples.make_video(src, seconds=20, width=1920, height=1080, pattern="testsrc2", runner=runner)
    files = {}
    for moving in (False, True):
        files[moving] = OUT / f"motion_{'moving' if moving else 'still'}.json"
        files[moving].write_text(json.dumps(project(moving), indent=2))
    outputs = {k: OUT / f"motion_{k}.mp4" for k in ("still", "moving", "hand")}
    if args.breakdown:
        row = breakdown(service, runner, files, outputs, args)
        print(json.dumps(row, indent=2))
        (OUT / "bench_motion_breakdown.json").write_text(json.dumps(row, indent=2))
        return 0
    jobs = {
        "still": lambda: service.render(service.plan_project(files[False], args.profile, "cpu"), outputs["still"]),
        "moving": lambda: service.render(service.plan_project(files[True], args.profile, "cpu"), outputs["moving"]),
        "hand": lambda: runner.run(hand_written(args.profile, outputs["hand"]), stage="hand-written", cwd=OUT),
    }
    order = list(jobs)
    rounds = []
    for k in range(args.rounds):
        turn = order[k % 3:] + order[:k % 3]  # the order rotates: a slow spell hits every side
        rounds.append({name: timed(jobs[name]) for name in turn})
    ratio = {f"{a}/{b}": ([r[a][0] / r[b][0] for r in rounds], [r[a][1] / r[b][1] for r in rounds])
             for a, b in (("moving", "still"), ("moving", "hand"))}
    row = {"profile": args.profile, "rounds": args.rounds,
           "seconds": {k: round(statistics.median(r[k][0] for r in rounds), 2) for k in order},
           "cpu_seconds": {k: round(statistics.median(r[k][1] for r in rounds), 2) for k in order},
           **{name: {"wall": round(statistics.median(w), 3), "wall_range": [round(min(w), 3), round(max(w), 3)],
                     "cpu": round(statistics.median(c), 3)} for name, (w, c) in ratio.items()},
           "frames": {k: count_video_frames(v) for k, v in outputs.items()}}
    print(json.dumps(row, indent=2))
    (OUT / "bench_motion.json").write_text(json.dumps(row, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
