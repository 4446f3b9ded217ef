"""Preset bench: x264/x265 preset x CRF against encode time, bitrate and quality, per CPU profile.

Each source is rendered once by cutlite, losslessly, at its own canvas (the reference edit of
``bench_render.py`` and two real clips); an excerpt of it is brought to the profile's size and fps
(``RenderProfile.output_size``/``output_fps``) as raw y4m, the reference. The reference is then
encoded with each preset x CRF using exactly the profile's encoder arguments (``resolve_encoder``,
with only preset and CRF swapped), and each encode is measured: wall and CPU time (the encoder's
user + system time, steadier than wall on a shared box), bitrate, SSIM (ffmpeg ``ssim``) and VMAF
(the bundled ffmpeg's ``libvmaf``, built-in model vmaf_v0.6.1) against the reference.

Times are printed as ratios to the ``veryfast`` cell at the same CRF in the same run (the
yardstick). The knee rule and the chosen defaults are printed last (``decide``; docs/presets.md says why):

- delivery profiles (kept, shipped: bits matter): presets are compared at equal bitrate, each
  preset's VMAF read at the bitrate ``veryfast`` spends at the profile's CRF along its own CRF
  points; the default is the fastest preset no slower one beats by 1 VMAF point or more, among
  those that hold the current default's quality somewhere in the grid (never ultrafast: no AQ);
- drafts (watched once, thrown away: the wait matters) and previews (the wait matters, but they
  are kept as proxies and streamed to the studio: at most twice veryfast's bits): the preset with
  the least CPU time among those that hold the current default's quality somewhere in the grid;
- drafts and previews hold the current default's VMAF and SSIM (a metric alone can be gamed: VMAF
  prefers x264 without adaptive quantisation); the CRF is the highest grid CRF (the fewest bits)
  at which the chosen preset still holds both, so a preset change does not lower the quality.

    python bench/bench_presets.py [--profiles draft_360p,social_1080p] [--seconds 5]
        [--presets ultrafast,superfast,veryfast,faster,fast,medium] [--crf-steps=-2,0,2,4]
        [--master-short-side 720] [--report]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import re
import resource
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_render import make_media, reference_project  # noqa: E402

from engines.ffmpeg.probe import probe  # noqa: E402
from engines.ffmpeg.profiles import PROFILES, RenderProfile, get_profile, resolve_encoder  # noqa: E402
from engines.ffmpeg.runner import FFmpegRunner  # noqa: E402
from engines.video_render.service import RenderService  # noqa: E402

OUT = ROOT / "bench" / "out"
WORK = OUT / "presets"
REAL_MEDIA = Path(os.environ.get("CUTLITE_REAL_MEDIA") or ROOT.parent / "shared" / "media" / "real").resolve()

# name -> (file in the real-media corpus or None for the reference edit, excerpt start in seconds)
SOURCES = {
    "edit": (None, Fraction(7)),  # the reference edit: logo, crossfade at 9-10 s, the 1.5x colour-graded clip
    "phone": ("video/androidx_trim_optimization_failure_518x488.mp4", Fraction(0)),  # handheld phone, 518x488
    "street": ("video/openshot_run_720x400.mp4", Fraction(0)),  # street-race footage, fast motion, 720x400
    # a phone's own 4K (portrait 2160x3840, 60 fps, 0.3 s): for master_4k at full size (--sources phone4k
    # --seconds 1/4 --master-short-side 2160); not in the default set
    "phone4k": ("video/androidx_portrait_4k60.mp4", Fraction(0)),
}
DEFAULT_SOURCES = "edit,phone,street"
PRESETS = "ultrafast,superfast,veryfast,faster,fast,medium"
YARDSTICK = "veryfast"
KNEE_VMAF = 1.0     # a slower preset must buy at least this much VMAF at equal bitrate
VMAF_SLACK = 0.5    # "holds the quality": VMAF and SSIM within these of the current default's
SSIM_SLACK = 0.0005
PREVIEW_BITS = 2.0  # previews (stored as proxies, streamed to the studio) spend at most 2x veryfast's bits

# cutlite's own render path (rotation, colour, fps), losslessly, at the source's canvas
LOSSLESS = RenderProfile("bench_lossless", "preview", 1 << 16, False, None, "h264", "yuv420p", 0, "ultrafast",
                         Fraction(2), "128k", 0, 0, 0.05)


def lossless_source(service: RenderService, name: str, seconds: Fraction) -> Path:
    """The source rendered once by cutlite with x264 CRF 0 (lossless at 8 bits), cached."""
    out = WORK / f"src_{name}.mp4"
    if out.exists():
        return out
    WORK.mkdir(parents=True, exist_ok=True)
    PROFILES.setdefault(LOSSLESS.name, LOSSLESS)
    path, start = SOURCES[name]
    if path is None:
        make_media(OUT, service.runner)
        project = reference_project()
        folder = OUT
    else:
        clip = REAL_MEDIA / path
        if not clip.exists():
            raise SystemExit(f"bench_presets: {clip} is missing (set CUTLITE_REAL_MEDIA to the corpus folder)")
        v = probe(clip).video
        w, h = v.display_size
        end = start + seconds
        project = {"schema_version": 1, "id": f"bench-{name}", "tenant": "bench", "env": "dev",
                   "settings": {"width": w, "height": h, "fps": "30000/1001", "sample_rate": 48000},
                   "assets": {"clip": {"path": str(clip)}},
                   "tracks": [{"id": "main", "kind": "video", "clips": [
                       {"id": "c1", "asset": "clip", "start": 0, "source_in": str(start),
                        "source_out": str(end)}]}]}
        folder = WORK
    project_file = folder / f"presets_{name}.json"
    project_file.write_text(json.dumps(project, indent=2))
    plan = service.plan_project(project_file, LOSSLESS.name, "cpu")
    args = plan.output_args
    i = args.index("-profile:v")  # lossless needs x264's High 4:4:4 Predictive profile, not High
    plan = plan.model_copy(update={"output_args": args[:i] + args[i + 2:]})
    service.render(plan, out)
    return out


def reference(runner: FFmpegRunner, src: Path, name: str, profile: RenderProfile, seconds: Fraction) -> dict:
    """The excerpt at the profile's size and fps as raw y4m: what every encode of the grid starts from."""
    v = probe(src).video
    fps = profile.output_fps(v.fps)
    w, h = profile.output_size(v.width, v.height)
    ref = WORK / f"ref_{name}_{profile.name}_{w}x{h}_{float(seconds):g}s.y4m"
    start = SOURCES[name][1] if SOURCES[name][0] is None else Fraction(0)
    if not ref.exists():
        tmp = ref.with_suffix(".partial.y4m")
        runner.run(["-y", "-ss", str(float(start)), "-t", str(float(seconds)), "-i", str(src),
                    "-vf", f"fps={fps.numerator}/{fps.denominator},scale={w}:{h},format={profile.pix_fmt}",
                    "-strict", "-1", "-f", "yuv4mpegpipe", str(tmp)], stage="bench reference")
        tmp.rename(ref)
    return {"path": ref, "width": w, "height": h, "fps": fps}


def encode(runner: FFmpegRunner, ref: dict, profile: RenderProfile, out: Path) -> dict:
    """One cell: the profile's own encoder arguments on the reference; wall and CPU seconds."""
    enc = resolve_encoder(profile, "cpu", ref["fps"])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = runner.run(["-y", "-i", str(ref["path"]), "-map", "0:v", "-c:v", enc.encoder, *enc.codec_args,
                      "-pix_fmt", enc.pix_fmt, "-fps_mode", "passthrough", "-an", str(out)], stage="bench encode")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    frames = int(res.progress.get("frame", "0"))
    seconds = frames / ref["fps"]
    return {"wall_s": res.elapsed, "cpu_s": cpu, "frames": frames,
            "kbps": out.stat().st_size * 8 / 1000 / float(seconds)}


def quality(runner: FFmpegRunner, dist: Path, ref: dict, subsample: int) -> dict:
    """SSIM (all planes) and VMAF (vmaf_v0.6.1) of an encode against its reference, in one decode."""
    graph = ("[0:v]setpts=PTS-STARTPTS,split[d1][d2];[1:v]setpts=PTS-STARTPTS,split[r1][r2];"
             "[d1][r1]ssim[s];"
             f"[d2][r2]libvmaf=model=version=vmaf_v0.6.1:n_threads=2:n_subsample={subsample}[v]")
    res = runner.run(["-v", "info", "-i", str(dist), "-i", str(ref["path"]), "-filter_complex", graph,
                      "-map", "[s]", "-f", "null", "-", "-map", "[v]", "-f", "null", "-"], stage="bench quality")
    ssim = re.search(r"SSIM .*All:([\d.]+)", res.stderr_tail)
    vmaf = re.search(r"VMAF score: ([\d.]+)", res.stderr_tail)
    if not ssim or not vmaf:
        raise SystemExit(f"bench_presets: no SSIM/VMAF in ffmpeg's output:\n{res.stderr_tail}")
    return {"ssim": float(ssim.group(1)), "vmaf": float(vmaf.group(1))}


def bench_profile(runner: FFmpegRunner, base: RenderProfile, sources: dict[str, Path], presets: list[str],
                  crfs: list[int], seconds: Fraction, short_side: int | None) -> dict:
    prof = dataclasses.replace(base, short_side=short_side) if short_side else base
    cells = []
    for name, src in sources.items():
        ref = reference(runner, src, name, prof, seconds)
        for crf in crfs:  # presets interleaved within each CRF: the yardstick is timed next to its cells
            for preset in presets:
                variant = dataclasses.replace(prof, preset=preset, crf=crf)
                out = WORK / f"enc_{base.name}_{name}_{preset}_{crf}.mp4"
                cell = {"profile": base.name, "source": name, "size": f"{ref['width']}x{ref['height']}",
                        "preset": preset, "crf": crf, **encode(runner, ref, variant, out)}
                cell.update(quality(runner, out, ref, 3 if ref["width"] * ref["height"] > 5e5 else 1))
                out.unlink()
                cells.append(cell)
                print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in cell.items()}),
                      flush=True)
        for c in cells:
            if c["source"] == name:
                yard = next(y for y in cells if y["source"] == name and y["crf"] == c["crf"]
                            and y["preset"] == YARDSTICK)
                c["cpu_x"] = c["cpu_s"] / yard["cpu_s"]
                c["wall_x"] = c["wall_s"] / yard["wall_s"]
                c["kbps_x"] = c["kbps"] / yard["kbps"]
    return {"profile": base.name, "reduced_short_side": short_side, "cells": cells,
            "decision": decide(base, cells, presets, crfs)}


def equal_bitrate_vmaf(cells: list[dict], source: str, preset: str, crf0: int) -> float:
    """The VMAF ``preset`` would reach at the bitrate veryfast spends at ``crf0`` on ``source``.

    A least-squares line of VMAF against log(bitrate) through this preset's CRF points (rate-quality
    curves are close to straight in log-rate over a few CRF steps), read at the yardstick's bitrate.
    """
    pts = [(math.log(c["kbps"]), c["vmaf"]) for c in cells if c["source"] == source and c["preset"] == preset]
    mx, my = statistics.fmean(x for x, _ in pts), statistics.fmean(y for _, y in pts)
    slope = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)
    yard = next(c for c in cells if c["source"] == source and c["preset"] == YARDSTICK and c["crf"] == crf0)
    return my + slope * (math.log(yard["kbps"]) - mx)


def decide(base: RenderProfile, cells: list[dict], presets: list[str], crfs: list[int]) -> dict:
    """The knee, by the profile's role (docs/presets.md says why).

    A delivery file is kept and shipped, so a preset is judged by the quality it buys per bit: the
    fastest preset that no slower one beats by KNEE_VMAF or more at equal bitrate (among those that
    hold the current default's VMAF and SSIM somewhere in the grid; never ultrafast, which turns
    adaptive quantisation off: banding in flat areas that neither metric sees). A draft or preview
    is watched once, so it is judged by the wait at the profile's quality: the preset with the least
    CPU time among those that hold the current default's VMAF and SSIM in the grid (previews, kept
    as proxies and streamed to the studio, within PREVIEW_BITS times veryfast's bitrate).
    Either way the CRF is then the highest grid CRF (the fewest bits) at which the chosen preset still
    holds the current default's VMAF and SSIM (within VMAF_SLACK and SSIM_SLACK).
    """
    sources = sorted({c["source"] for c in cells})
    crf0 = base.crf

    def mean(key: str, preset: str, crf: int) -> float:
        return statistics.fmean(c[key] for c in cells if c["preset"] == preset and c["crf"] == crf)
    eq = {p: statistics.fmean(equal_bitrate_vmaf(cells, s, p, crf0) for s in sources) for p in presets}
    cpu = {p: statistics.fmean(mean("cpu_x", p, c) for c in crfs) for p in presets}
    current = base.preset if base.preset in presets else YARDSTICK
    target, target_ssim = mean("vmaf", current, crf0), mean("ssim", current, crf0)

    def holds(p: str, c: int) -> bool:  # the current default's quality on both metrics
        return mean("vmaf", p, c) >= target - VMAF_SLACK and mean("ssim", p, c) >= target_ssim - SSIM_SLACK

    def bits(p: str, c: int) -> float:  # bitrate relative to the yardstick's at the profile's CRF
        return statistics.fmean(cell(s, p, c)["kbps"] / cell(s, YARDSTICK, crf0)["kbps"] for s in sources)

    def cell(s: str, p: str, c: int) -> dict:
        return next(x for x in cells if x["source"] == s and x["preset"] == p and x["crf"] == c)
    if base.role == "delivery":
        rule = (f"equal bitrate: the fastest preset no slower one beats by {KNEE_VMAF:g} VMAF or more, "
                "among those holding the current VMAF and SSIM, ultrafast aside")
        chosen = next(p for p in presets if p != "ultrafast" and any(holds(p, c) for c in crfs)
                      and all(eq[q] - eq[p] < KNEE_VMAF for q in presets[presets.index(p) + 1:]))
    else:
        ceiling = PREVIEW_BITS if base.role == "preview" else math.inf
        rule = ("equal quality: the least CPU time among presets holding the current VMAF and SSIM"
                + (f" within {ceiling:g}x veryfast's bits" if ceiling < math.inf else ""))
        chosen = min((p for p in presets if any(holds(p, c) and bits(p, c) <= ceiling for c in crfs)),
                     key=lambda p: cpu[p])
    crf = max(c for c in crfs if holds(chosen, c))
    return {"rule": rule, "current": [base.preset, crf0], "chosen": [chosen, crf], "target_vmaf": round(target, 2),
            "target_ssim": round(target_ssim, 4), "chosen_ssim": round(mean("ssim", chosen, crf), 4),
            "equal_bitrate_vmaf": {p: round(v, 2) for p, v in eq.items()},
            "cpu_x_all_crfs": {p: round(v, 2) for p, v in cpu.items()},
            "cpu_x_at_crf": {p: round(mean("cpu_x", p, crf0), 2) for p in presets},
            "wall_x_at_crf": {p: round(mean("wall_x", p, crf0), 2) for p in presets},
            "kbps_x_at_crf": {p: round(mean("kbps_x", p, crf0), 2) for p in presets},
            "ssim_at_crf": {p: round(mean("ssim", p, crf0), 4) for p in presets},
            "vmaf_at_crf": {p: round(mean("vmaf", p, crf0), 2) for p in presets},
            "chosen_vmaf": round(mean("vmaf", chosen, crf), 2),
            "chosen_bits_x": round(bits(chosen, crf), 2)}


def print_table(result: dict) -> None:
    print(f"\n{result['profile']}" + (f" (at a reduced short side of {result['reduced_short_side']})"
                                      if result["reduced_short_side"] else ""))
    print("source  size       preset     crf  cpu x   wall x  kbit/s   kbps x  SSIM     VMAF")
    for c in result["cells"]:
        print(f"{c['source']:<7} {c['size']:<10} {c['preset']:<10} {c['crf']:>3}  {c['cpu_x']:>5.2f}  "
              f"{c['wall_x']:>6.2f}  {c['kbps']:>7.0f}  {c['kbps_x']:>6.2f}  {c['ssim']:.4f}  {c['vmaf']:6.2f}")
    d = result["decision"]
    print(f"mean over sources at crf {d['current'][1]}:")
    print("preset      cpu x  wall x  kbps x  SSIM    VMAF    VMAF at veryfast's bitrate")
    for p in d["equal_bitrate_vmaf"]:
        print(f"{p:<10} {d['cpu_x_at_crf'][p]:>6.2f} {d['wall_x_at_crf'][p]:>6.2f} {d['kbps_x_at_crf'][p]:>6.2f}  "
              f"{d['ssim_at_crf'][p]:.4f}  {d['vmaf_at_crf'][p]:6.2f}  {d['equal_bitrate_vmaf'][p]:6.2f}")
    print(f"rule ({d['rule']}): current {d['current'][0]} crf {d['current'][1]} (VMAF {d['target_vmaf']}, "
          f"SSIM {d['target_ssim']}) -> "
          f"knee {d['chosen'][0]} crf {d['chosen'][1]} (VMAF {d['chosen_vmaf']}, SSIM {d['chosen_ssim']}, "
          f"bitrate {d['chosen_bits_x']:.2f}x veryfast crf {d['current'][1]})", flush=True)


def markdown(result: dict) -> None:
    """The profile's summary for docs/presets.md: mean over the sources, at each grid CRF."""
    d, cells = result["decision"], result["cells"]
    presets = list(d["equal_bitrate_vmaf"])
    crfs = sorted({c["crf"] for c in cells})

    def mean(key: str, p: str, c: int) -> float:
        return statistics.fmean(x[key] for x in cells if x["preset"] == p and x["crf"] == c)
    sizes = ", ".join(dict.fromkeys(f"{c['source']} {c['size']}" for c in cells))
    print(f"\n### {result['profile']}\n\nSources: {sizes}.\n")
    print("| preset | " + " | ".join(f"crf {c}: CPU x / kbit/s x / SSIM / VMAF" for c in crfs)
          + f" | VMAF at veryfast's bitrate (crf {d['current'][1]}) |")
    print("| --- |" + " ---: |" * (len(crfs) + 1))
    for p in presets:
        row = [f"{mean('cpu_x', p, c):.2f} / {mean('kbps_x', p, c):.2f} / {mean('ssim', p, c):.4f} / "
               f"{mean('vmaf', p, c):.1f}" for c in crfs]
        print(f"| {p} | " + " | ".join(row) + f" | {d['equal_bitrate_vmaf'][p]:.1f} |")
    print(f"\nWall time at crf {d['current'][1]} (x veryfast): "
          + ", ".join(f"{p} {v:.2f}" for p, v in d["wall_x_at_crf"].items()) + ".")
    print(f"Rule: {d['rule']}. Measured against the default then, {d['current'][0]} crf {d['current'][1]} (VMAF {d['target_vmaf']}, "
          f"SSIM {d['target_ssim']}); knee: {d['chosen'][0]} crf {d['chosen'][1]} (VMAF {d['chosen_vmaf']}, "
          f"SSIM {d['chosen_ssim']}, {d['chosen_bits_x']:.2f}x the bits of veryfast crf {d['current'][1]}).")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profiles", default="draft_360p,draft_480p,preview_720p,social_1080p,master_4k")
    ap.add_argument("--presets", default=PRESETS)
    ap.add_argument("--crf-steps", default="-2,0,2,4", help="CRFs around each profile's own (write --crf-steps=-2,0,2)")
    ap.add_argument("--seconds", type=Fraction, default=Fraction(5), help="excerpt length per source")
    ap.add_argument("--sources", default=DEFAULT_SOURCES)
    ap.add_argument("--master-short-side", type=int, default=720,
                    help="master_4k's short side for the bench (2160 = full size; slow on 2 cores)")
    ap.add_argument("--report", action="store_true",
                    help="no encodes: print the tables and decisions again from bench/out/bench_presets.json")
    ap.add_argument("--markdown", action="store_true", help="with --report: the summaries as markdown tables")
    args = ap.parse_args()
    if args.report:
        for result in json.loads((OUT / "bench_presets.json").read_text()):
            cells = result["cells"]
            presets = list(dict.fromkeys(c["preset"] for c in cells))
            crfs = sorted({c["crf"] for c in cells})
            preset, crf = result["decision"]["current"]  # the defaults the run was measured against
            base = dataclasses.replace(get_profile(result["profile"]), preset=preset, crf=crf)
            result["decision"] = decide(base, cells, presets, crfs)
            (markdown if args.markdown else print_table)(result)
        return 0
    runner = FFmpegRunner()
    service = RenderService(runner)
    names = args.sources.split(",")
    presets = args.presets.split(",")
    if YARDSTICK not in presets:
        raise SystemExit(f"bench_presets: the grid needs the yardstick preset {YARDSTICK}")
    t0 = time.monotonic()
    sources = {n: lossless_source(service, n, args.seconds) for n in names}
    for name in args.profiles.split(","):
        base = get_profile(name)
        steps = [int(s) for s in args.crf_steps.split(",")]
        crfs = sorted({base.crf + s for s in steps})
        short = args.master_short_side if name == "master_4k" and args.master_short_side != 2160 else None
        result = bench_profile(runner, base, sources, presets, crfs, args.seconds, short)
        print_table(result)
        report = OUT / "bench_presets.json"  # one entry per profile, kept across runs of other profiles
        results = [r for r in (json.loads(report.read_text()) if report.exists() else []) if r["profile"] != name]
        report.write_text(json.dumps(results + [result], indent=2, default=str))
    print(f"\n{time.monotonic() - t0:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
