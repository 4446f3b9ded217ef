"""Proxy bench: cutlite's proxy generation vs one plain ffmpeg transcode to the same settings.

For each source (a synthesised 1080p 10 s clip and two real files from the corpus), both sides
run alternately in the same process (``--rounds`` times, the order swapped every round), so
machine noise hits both; the figure is the ratio of medians.

- cutlite: ``ensure_proxies_for_project`` on a one-clip project whose asset is already
  registered (registration is the import step, not the proxy step), from a fresh registry each
  round: load, resolve, hardware decision, lease, probe, plan, encode, frame-count check, store,
  register. Everything the user waits for when a proxy is made.
- plain: the command an ffmpeg user would write for the same output: same size, fps, encoder
  arguments, pix_fmt, audio settings and container flags (``-movflags +faststart``), through
  the same runner.

The frames of both outputs are compared (PSNR) to show they are the same proxy.

    python bench/bench_proxies.py [--rounds 5] [--profile draft_360p] [--sources synth,real1,real2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_render import psnr  # noqa: E402  (one PSNR reader for the benches)

from engines.ffmpeg import samples  # noqa: E402
from engines.ffmpeg.probe import count_video_frames, probe  # noqa: E402
from engines.ffmpeg.profiles import get_profile, resolve_encoder  # noqa: E402
from engines.ffmpeg.runner import FFmpegRunner  # noqa: E402
from engines.media_v2.library import MediaLibrary  # noqa: E402
from engines.media_v2.registry import Registry  # noqa: E402
from engines.media_v2.storage import LocalStore  # noqa: E402
from engines.model.timebase import fraction_text  # noqa: E402
from engines.planning.color import to_bt709  # noqa: E402
from engines.rendering.proxies import proxy_fps  # noqa: E402
from engines.video_render.service import RenderService, ensure_proxies_for_project  # noqa: E402

OUT = ROOT / "bench" / "out" / "proxies"
REAL = Path(os.environ.get("CUTLITE_REAL_MEDIA") or ROOT.parent / "shared" / "media" / "real") / "video"
REAL_FILES = {"real1": "androidx_sowt-with-video_1080p50.mov", "real2": "openshot_test_msmpeg4v2.avi"}


def sources(runner: FFmpegRunner, wanted: list[str]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    if "synth" in wanted:
        synth = OUT / "synth_1080p_10s.mp4"
        if not synth.exists():
            samples.make_video(synth, seconds=10, width=1920, height=1080, fps=30, color=None, pattern="testsrc2",
                               runner=runner)
        found["synth"] = synth
    for name, file in REAL_FILES.items():
        if name in wanted:
            path = REAL / file
            if not path.exists():
                raise SystemExit(f"{path} is missing: set CUTLITE_REAL_MEDIA to the real-media corpus")
            found[name] = path
    return found


def hand_written(source: Path, profile_name: str, output: Path) -> list[str]:
    """What an ffmpeg user would write for the same proxy: one command, no probing beyond ffmpeg's own."""
    profile = get_profile(profile_name)
    info = probe(source)  # to know the target size and rate, as a user reads them off ffprobe once
    v = info.video
    assert v is not None
    short = min(v.display_size)
    f = min(Fraction(1), Fraction(profile.short_side, short))
    w, h = (2 * round(v.display_size[0] * f / 2), 2 * round(v.display_size[1] * f / 2))

    fps = proxy_fps(v.fps or Fraction(30), profile)
    enc = resolve_encoder(profile, "cpu", fps)
    args = ["-y", "-i", str(source), "-map", f"0:{v.index}"]
    if info.audio is not None:
        args += ["-map", f"0:{info.audio.index}", *profile.audio_args, "-ar", "48000"]
    # the colour conversion cutlite makes (a BT.601 source to BT.709), written the same way; none for BT.709
    convert = to_bt709(v) if (v.color_matrix or "smpte170m") != "bt709" else ""
    return args + ["-vf", f"fps={fraction_text(fps)},scale={w}:{h}{convert},setsar=1", "-c:v", enc.encoder,
                   *enc.codec_args, "-pix_fmt", enc.pix_fmt, "-movflags", "+faststart", str(output)]


def fresh_home(name: str, source: Path) -> tuple[RenderService, Path]:
    """A registry and store of their own with the source registered; the project file naming it."""
    home = OUT / f"home-{name}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    library = MediaLibrary(Registry(f"sqlite:///{home / 'cutlite.db'}"), stores={"dev": LocalStore(home / "objects")})
    asset, _ = library.register_file("bench", "dev", source)
    duration = probe(source).duration or Fraction(1)
    doc = {"schema_version": 1, "id": f"bench-proxy-{name}", "tenant": "bench", "env": "dev",
           "settings": {"width": 1920, "height": 1080, "fps": 30, "sample_rate": 48000},
           "assets": {"clip": {"asset_id": asset.id}},
           "tracks": [{"id": "v", "kind": "video", "clips": [
               {"id": "c", "asset": "clip", "start": 0, "source_in": 0,
                "source_out": fraction_text(min(duration, Fraction(1)))}]}]}
    project = home / "project.json"
    project.write_text(json.dumps(doc))
    return RenderService(library=library), project


def cpu_seconds() -> float:
    """CPU time of this process (all threads) and its finished children: less sensitive than wall
    time to other jobs on a shared machine."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def cutlite_once(name: str, source: Path, profile: str) -> tuple[float, float, Path, dict]:
    service, project = fresh_home(name, source)
    service.hardware  # noqa: B018  -- the hardware report (cached on disk) is start-up, not the proxy step
    c, t = cpu_seconds(), time.perf_counter()
    outcomes = ensure_proxies_for_project(project, profile, service=service, hw="cpu")
    took, cpu = time.perf_counter() - t, cpu_seconds() - c
    (o,) = outcomes
    assert o.status == "created", o.to_dict()
    return took, cpu, service.library.store("dev").root / o.key, o.meta


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--profile", default="draft_360p")
    ap.add_argument("--sources", default="synth,real1,real2")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    runner = FFmpegRunner()
    rows = []
    for name, source in sources(runner, args.sources.split(",")).items():
        mine: list[float] = []
        theirs: list[float] = []
        mine_cpu: list[float] = []
        theirs_cpu: list[float] = []
        hand = OUT / f"hand_{name}.mp4"
        kept = OUT / f"cutlite_{name}.mp4"
        for i in range(args.rounds):
            for side in (("cutlite", "plain") if i % 2 == 0 else ("plain", "cutlite")):
                if side == "cutlite":
                    took, cpu, made, meta = cutlite_once(name, source, args.profile)
                    mine.append(took)
                    mine_cpu.append(cpu)
                    shutil.copyfile(made, kept)
                else:
                    argv = hand_written(source, args.profile, hand)  # planning it is not timed
                    c, t = cpu_seconds(), time.perf_counter()
                    runner.run(argv, stage="hand-written")
                    theirs.append(time.perf_counter() - t)
                    theirs_cpu.append(cpu_seconds() - c)
        row = {"source": name, "file": source.name, "profile": args.profile,
               "cutlite_s": round(statistics.median(mine), 3), "plain_s": round(statistics.median(theirs), 3),
               "ratio": round(statistics.median(mine) / statistics.median(theirs), 3),
               "cutlite_cpu_s": round(statistics.median(mine_cpu), 3),
               "plain_cpu_s": round(statistics.median(theirs_cpu), 3),
               "cpu_ratio": round(statistics.median(mine_cpu) / statistics.median(theirs_cpu), 3),
               "frames": (count_video_frames(kept), count_video_frames(hand)),
               "size": f"{meta['width']}x{meta['height']}@{meta['fps']}",
               "psnr_db": round(psnr(runner, kept, hand), 1), "rounds": args.rounds,
               "all_cutlite_s": [round(x, 3) for x in mine], "all_plain_s": [round(x, 3) for x in theirs]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\nprofile {args.profile}: medians of {args.rounds}, wall (CPU)")
    print("source   proxy            cutlite          plain            ratio          frames    PSNR between them")
    for r in rows:
        print(f"{r['source']:<8} {r['size']:<16} {r['cutlite_s']:>5.2f} ({r['cutlite_cpu_s']:.2f}) s"
              f"  {r['plain_s']:>5.2f} ({r['plain_cpu_s']:.2f}) s  {r['ratio']:>5.3f} ({r['cpu_ratio']:.3f})"
              f"  {r['frames'][0]}/{r['frames'][1]}   {r['psnr_db']} dB")
    (OUT / f"report_{args.profile}.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
