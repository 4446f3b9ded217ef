"""Where a one-pass render's time goes: the reference edit's ffmpeg command taken apart.

Each case is cutlite's own command for the reference edit (``bench_render.reference_project``)
with one thing changed: the encoder replaced by ``-f null`` (what decoding and the graph cost),
the picture or the sound left out, one kind of filter taken out of the picture graph (the colour
statements, the pinned formats, ...), a thread count changed. All cases run once per round in an
order rotated every round, and each is reported as the median over rounds of its ratio to the
full command of the same round, CPU (user + system, steadier on a shared box) and wall.

A case that takes a filter out changes the pixels only where that filter did something: the
colour statements and pins (``setparams``, ``format``) change none on this edit (its sources
are tagged BT.709 limited range); they are taken out to measure what they cost, not as a fix.

    python bench/bench_render_stages.py [--rounds 3] [--profile social_1080p] [--cases full,null,...]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_render import OUT, floor_command, hand_written_best, make_media, reference_project  # noqa: E402

from engines.ffmpeg.runner import FFmpegRunner  # noqa: E402
from engines.rendering.renderer import write_work_folder  # noqa: E402
from engines.video_render.service import RenderService  # noqa: E402

Case = Callable[[list[str], dict[str, str]], tuple[list[str], dict[str, str]]]


def _null(argv: list[str]) -> list[str]:
    """The command without encoders or muxer: every mapped stream to ``-f null``."""
    out = max(i for i, a in enumerate(argv) if a in ("-i", "-/filter_complex")) + 2
    maps = [argv[i + 1] for i, a in enumerate(argv) if a == "-map"]
    return argv[:out] + [x for m in maps for x in ("-map", m)] + ["-f", "null", "-"]


def _graphs(files: dict[str, str], edit: Callable[[str], str]) -> dict[str, str]:
    """The picture graph (the file holding ``[vout]``) edited."""
    return {name: edit(text) if "[vout]" in text else text for name, text in files.items()}


def _drop(pattern: str) -> Callable[[str], str]:
    """Take every filter matching ``pattern`` out of the graph's chains (an emptied chain: null)."""
    rx = re.compile(pattern)

    def edit(text: str) -> str:
        chains = []
        for line in text.split(";\n"):
            m = re.match(r"^((?:\[[^\]]+\])*)(.*?)((?:\[[^\]]+\])+)$", line, re.S)
            if not m:
                chains.append(line)
                continue
            ins, body, outs = m.groups()
            # split on commas outside brackets and escapes
            parts, depth, cur, esc = [], 0, "", False
            for ch in body:
                if esc:
                    cur += ch
                    esc = False
                    continue
                if ch == "\\":
                    cur += ch
                    esc = True
                    continue
                if ch == "," and depth == 0:
                    parts.append(cur)
                    cur = ""
                    continue
                depth += ch == "(" or ch == "["
                depth -= ch == ")" or ch == "]"
                cur += ch
            parts.append(cur)
            kept = [p for p in parts if not rx.fullmatch(p)]
            chains.append(ins + (",".join(kept) or "null") + outs)
        return ";\n".join(chains)
    return edit


def _without_output(kind: str) -> Case:
    def case(argv: list[str], files: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        label = "[aout]" if kind == "audio" else "[vout]"
        out = [a for i, a in enumerate(argv) if not (a == "-map" and argv[i + 1] == label)
               and not (i > 0 and argv[i - 1] == "-map" and a == label)]
        keep = {n: t for n, t in files.items() if label not in t}
        out = [a for i, a in enumerate(out) if not (a == "-/filter_complex" and out[i + 1] not in keep)
               and not (i > 0 and out[i - 1] == "-/filter_complex" and a not in keep)]
        return out, keep
    return case


def _global(option: str, value: str) -> Case:
    def case(argv: list[str], files: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        if option in argv:
            i = argv.index(option)
            return argv[:i + 1] + [value] + argv[i + 2:], files
        return [argv[0], option, value, *argv[1:]], files
    return case


def _drop_args(*names: str) -> Case:
    """Output options taken out (each with its value)."""
    def case(argv: list[str], files: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        out, skip = [], False
        for a in argv:
            if skip:
                skip = False
                continue
            if a in names:
                skip = True
                continue
            out.append(a)
        return out, files
    return case


def _output(option: str, value: str) -> Case:
    """An output option added just before the output (the last one given wins)."""
    return lambda argv, files: ([*argv[:-1], option, value, argv[-1]], files)


def _decoder_threads(n: str) -> Case:
    """Every input's decoder limited to ``n`` threads (an input option)."""
    def case(argv: list[str], files: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        out: list[str] = []
        for i, a in enumerate(argv):
            if a == "-i" and (i == 0 or argv[i - 1] != "-i"):
                out += ["-threads", n]
            out.append(a)
        return out, files
    return case


def _then(*cases: Case) -> Case:
    def case(argv: list[str], files: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        for c in cases:
            argv, files = c(argv, files)
        return argv, files
    return case


def _edit(pattern: str) -> Case:
    return lambda argv, files: (argv, _graphs(files, _drop(pattern)))


def _decode_only(argv: list[str], files: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The streams the graphs read, decoded and thrown away: no filters."""
    out = argv.index("-/filter_complex")
    used = sorted({m for text in files.values() for m in re.findall(r"\[(\d+:\d+)\]", text)})
    return argv[:out] + [x for m in used for x in ("-map", m)] + ["-f", "null", "-"], {}


def _null_case(argv: list[str], files: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    return _null(argv), files


def _yardstick(which: str, null: bool = False) -> Case:
    """Not cutlite's command: the best hand-written one (``bench_render.hand_written_best``) or the
    floor (cutlite's output decoded and encoded again), optionally without encoders."""
    def case(argv: list[str], files: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        out = Path(argv[-1])
        if which == "best":
            cmd = hand_written_best(OUT, PROFILE[0], out)
            cmd = [a.replace("textfile=title.txt", f"textfile={OUT / 'title.txt'}") for a in cmd]
        else:
            cmd = floor_command(PROFILE[0], OUT / f"floor_source_{PROFILE[0]}.mp4", out)
        if null:
            cut = max(i for i, a in enumerate(cmd) if a in ("-i", "-filter_complex")) + 2
            maps = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-map"]
            cmd = cmd[:cut] + [x for m in maps for x in ("-map", m)] + ["-f", "null", "-"]
        return cmd, {}
    return case


PROFILE = ["social_1080p"]

CASES: dict[str, Case] = {
    "full": lambda argv, files: (argv, files),
    # the encoders and the muxer left out: decode + graphs
    "null": _null_case,
    "decode": _decode_only,
    "no_sound": _without_output("audio"),
    "null_no_sound": _then(_without_output("audio"), _null_case),
    "null_no_picture": _then(_without_output("video"), _null_case),
    # the colour statements: setparams after decode and after each pin (metadata, no pixels)
    "null_no_setparams": _then(_null_case, _edit(r"setparams=.*")),
    # the pins: format with colour space and range
    "null_no_pins": _then(_null_case, _edit(r"format=pix_fmts=yuv420p:.*")),
    # scale's stated conversion options (bt709 tv -> bt709 tv: no conversion either way)
    "null_plain_scale": lambda argv, files: (_null(argv), _graphs(files, lambda t: re.sub(
        r":in_color_matrix=\w+:out_color_matrix=\w+:in_range=\w+:out_range=\w+", "", t))),
    "null_no_text": _then(_null_case, _edit(r"drawtext=.*")),
    # the picture graph alone, and with one part of it taken out
    "picture": _then(_without_output("audio"), _null_case),
    "picture_no_text": _then(_without_output("audio"), _null_case, _edit(r"drawtext=.*")),
    "picture_no_logo_opacity": _then(_without_output("audio"), _null_case, _edit(r"(geq|lut)=.*")),
    "picture_no_eq": _then(_without_output("audio"), _null_case, _edit(r"eq=.*")),
    "picture_no_conform": _then(_without_output("audio"), _null_case, _edit(r"tpad=.*")),
    "null_filter_threads_1": _then(_null_case, _global("-filter_complex_threads", "1")),
    "filter_threads_1": _global("-filter_complex_threads", "1"),
    "no_bitexact": _drop_args("-fflags", "-flags:v", "-flags:a"),
    # every decoder on one thread (ffmpeg's default: frame threads by the core count)
    "dec_threads_1": _decoder_threads("1"),
    "null_dec_threads_1": _then(_decoder_threads("1"), _null_case),
    "best": _yardstick("best"),
    "best_null": _yardstick("best", null=True),
    "floor": _yardstick("floor"),
    "floor_null": _yardstick("floor", null=True),
    # x264's threads (ffmpeg's default 0: x264 decides, 3 frame threads on 2 cores)
    "enc_threads_1": _output("-threads:v", "1"),
    "enc_threads_2": _output("-threads:v", "2"),
    "enc_threads_4": _output("-threads:v", "4"),
}


def cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", default="social_1080p")
    ap.add_argument("--cases", default="full,null,decode,null_no_sound,null_no_picture,null_no_setparams,"
                                       "null_no_pins,null_plain_scale")
    args = ap.parse_args()
    runner = FFmpegRunner()
    service = RenderService(runner)
    OUT.mkdir(parents=True, exist_ok=True)
    make_media(OUT, runner)
    project = OUT / "reference.json"
    project.write_text(json.dumps(reference_project(), indent=2))
    plan = service.plan_project(project, args.profile, "cpu")
    PROFILE[0] = args.profile
    if not (OUT / f"floor_source_{args.profile}.mp4").exists():
        service.render(plan, OUT / f"floor_source_{args.profile}.mp4")
    names = args.cases.split(",")
    assert names[0] == "full", "ratios are to the full command: name it first"
    times: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="cutlite-stages-") as tmp:
        work = Path(tmp)
        write_work_folder(plan, work)
        base_files = plan.graph_files()
        runs = {}
        for n in names:
            argv, files = CASES[n](plan.argv(str(work / "out.mp4")), dict(base_files))
            folder = work / n
            folder.mkdir()
            for name, text in files.items():
                (folder / name).write_text(text)
            for name in plan.files:
                (folder / name).write_text(plan.files[name])
            for name in plan.links.values():
                (folder / name).symlink_to(work / name)
            runs[n] = (argv, folder)
        for k in range(args.rounds):
            for n in names[k % len(names):] + names[:k % len(names)]:
                argv, folder = runs[n]
                t, c = time.perf_counter(), cpu()
                runner.run(argv, stage=n, cwd=folder)
                times[n].append((time.perf_counter() - t, cpu() - c))
                print(f"round {k} {n}: {times[n][-1][0]:.2f} s wall, {times[n][-1][1]:.2f} s CPU", flush=True)
    full = times["full"]
    print(f"\n{args.profile}: full command {statistics.median(w for w, _ in full):.2f} s wall, "
          f"{statistics.median(c for _, c in full):.2f} s CPU (medians of {args.rounds})")
    print("case                      CPU / full   wall / full   CPU s (median)")
    rows = []
    for n in names:
        c = statistics.median(x[1] / f[1] for x, f in zip(times[n], full))
        w = statistics.median(x[0] / f[0] for x, f in zip(times[n], full))
        rows.append({"case": n, "cpu_ratio": round(c, 3), "wall_ratio": round(w, 3),
                     "cpu_s": round(statistics.median(x[1] for x in times[n]), 2)})
        print(f"{n:<25} {c:>9.3f}   {w:>11.3f}   {rows[-1]['cpu_s']:>8.2f}")
    (OUT / f"bench_render_stages_{args.profile}.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
