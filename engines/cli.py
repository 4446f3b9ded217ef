"""The ``cutlite`` command line.

Every command takes ``--json`` (one JSON document on stdout); tables, logs and progress go to
stderr. Exit codes come from the error tree in one place (``main``): 0 success, 1 runtime
failure, 2 invalid input, 3 refused by backpressure, 130 cancelled.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .errors import Cancelled, CutliteError

out_console = Console()              # tables for people, on stdout
err_console = Console(stderr=True)   # logs and progress


def _emit(args: argparse.Namespace, doc: Any, table: Table | str | None = None) -> None:
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
    elif table is not None:
        out_console.print(table)


def _table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for key in (rows[0].keys() if rows else []):
        table.add_column(str(key))
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    return table


# ---------------------------------------------------------------- commands

def cmd_profiles(args: argparse.Namespace) -> int:
    from .video_render.profiles import PROFILES, resolve_encoder

    rows = [p.to_row() for p in PROFILES.values()]
    gpu = []
    for p in PROFILES.values():
        for family in ("cpu", "nvenc", "videotoolbox", "vaapi", "qsv"):
            e = resolve_encoder(p, family, p.output_fps(p.fps_cap or 30))
            gpu.append({"profile": p.name, "family": family, "encoder": e.encoder, "pix_fmt": e.pix_fmt,
                        "args": " ".join(e.codec_args)})
    _emit(args, {"profiles": rows, "encoders": gpu}, _table("Render profiles", rows))
    if not args.json:
        out_console.print(_table("Encoder mapping", gpu))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .video_render.ffmpeg_runner import FFmpegRunner, detect_hardware
    from .video_render.hardware import decide_hardware, requested_hw
    from .video_render.profiles import PROFILES

    runner = FFmpegRunner()
    report = detect_hardware(runner)
    requested = requested_hw(args.hw)
    choices = []
    for p in PROFILES.values():
        try:
            d = decide_hardware(requested, p.codec, report)
            choices.append({"profile": p.name, "encoder": d.encoder, "reason": d.reason})
        except CutliteError as exc:
            choices.append({"profile": p.name, "encoder": "-", "reason": exc.message})
    doc = {"ffmpeg": report.ffmpeg, "ffmpeg_version": report.ffmpeg_version, "hw": requested,
           "hardware_encoders": [vars(p) for p in report.probes], "profiles": choices,
           "home": str(Path(os.environ.get("CUTLITE_HOME", ".cutlite")).resolve())}
    if not args.json:
        out_console.print(f"ffmpeg: {report.ffmpeg} ({report.ffmpeg_version})")
        out_console.print(f"state folder: {doc['home']}")
        out_console.print(_table("Hardware encoders (trial encode)",
                                 [{"encoder": p.encoder, "listed": p.listed, "works": p.usable, "reason": p.reason}
                                  for p in report.probes]))
        out_console.print(_table(f"Encoder per profile (--hw {requested})", choices))
    else:
        _emit(args, doc)
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from .video_render.probe import probe

    info = probe(args.file).to_dict()
    rows = [{"field": k, "value": v} for k, v in info.items() if not isinstance(v, dict)]
    for section in ("video", "audio"):
        for k, v in (info.get(section) or {}).items():
            rows.append({"field": f"{section}.{k}", "value": v})
    _emit(args, info, _table(Path(args.file).name, rows))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .video_render.service import RenderService

    service = RenderService()
    project, folder = service.load(args.project)
    sources = service.gather(project, folder)
    doc = {"valid": not sources.problems, "problems": sources.problems, "warnings": sources.warnings}
    if args.json:
        _emit(args, doc)
    else:
        for p in sources.problems:
            err_console.print(f"[red]error[/red] {p}")
        for w in sources.warnings:
            err_console.print(f"[yellow]warning[/yellow] {w}")
        if not sources.problems:
            out_console.print(f"{project.id}: valid ({len(sources.media)} assets probed)")
    return 2 if sources.problems else 0


def cmd_plan(args: argparse.Namespace) -> int:
    from .video_render.service import RenderService

    plan = RenderService().plan_project(args.project, args.profile, args.hw)
    if args.json:
        _emit(args, plan.model_dump())
        return 0
    out_console.print(f"plan {plan.plan_hash}  profile {plan.profile}  encoder {plan.meta['encoder']}")
    out_console.print(f"hardware: {plan.meta['hardware']['reason']}")
    out_console.print(f"output: {plan.width}x{plan.height} @ {plan.fps} fps, {plan.frames} frames "
                      f"({plan.duration} s), audio {plan.samples} samples @ {plan.sample_rate} Hz")
    out_console.print(_table("Inputs", [{"#": i.index, "clip": i.clip, "asset": i.asset, "kind": i.kind,
                                         "path": i.path, "args": " ".join(i.args)} for i in plan.inputs]))
    out_console.print("filter graph:\n" + plan.filter_graph, markup=False, highlight=False)
    for w in plan.meta["warnings"]:
        err_console.print(f"[yellow]warning[/yellow] {w}")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .video_render.service import RenderService

    service = RenderService()
    plan = service.plan_project(args.project, args.profile, args.hw)
    cancel = threading.Event()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err_console, disable=args.json) as bar:
        task = bar.add_task(f"render {plan.profile} ({plan.meta['encoder']})", total=1.0)
        try:
            result = service.render(plan, args.output, cancel=cancel,
                                    progress=lambda f, _b: bar.update(task, completed=f))
        except KeyboardInterrupt:
            cancel.set()
            raise Cancelled("cancelled by the user", stage="render") from None
    doc = {"output": result.output, "frames": result.frames, "duration": result.duration,
           "elapsed_seconds": round(result.elapsed, 3), "plan_hash": result.plan_hash, "encoder": result.encoder,
           "warnings": plan.meta["warnings"]}
    _emit(args, doc, _table("Render", [{"output": result.output, "frames": result.frames,
                                         "duration (s)": result.duration, "encoder": result.encoder,
                                         "seconds": f"{result.elapsed:.2f}"}]))
    return 0


def cmd_proxies(args: argparse.Namespace) -> int:
    from .video_render.service import ensure_proxies_for_project

    outcomes = ensure_proxies_for_project(args.project, args.profile, hw=args.hw, start=args.start, end=args.end)
    rows = [{"asset": o.asset, "asset_id": o.asset_id or "-", "status": o.status,
             "seconds": f"{o.seconds:.2f}", "detail": o.detail, "key": o.key or "-"} for o in outcomes]
    _emit(args, {"profile": args.profile, "results": [o.to_dict() for o in outcomes]},
          _table(f"Proxies ({args.profile})", rows))
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .api import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    steps: list[dict[str, Any]] = []

    def report(step: str, seconds: float, what: str) -> None:
        steps.append({"step": step, "seconds": round(seconds, 2), "made": what})
        if not args.json:
            err_console.print(f"[green]✓[/green] {step:<22} {seconds:6.2f} s  {what}")

    results = run_demo(Path(args.out), report)
    _emit(args, {"steps": steps, **results}, _table("cutlite demo", steps))
    return 0


# ---------------------------------------------------------------- wiring

def build_parser() -> argparse.ArgumentParser:
    from .video_render.hardware import HW_CHOICES
    from .video_render.profiles import PROFILES

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    common.add_argument("--home", help="state folder (default $CUTLITE_HOME or ./.cutlite)")
    parser = argparse.ArgumentParser(prog="cutlite", description="Render and preview engine", parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", parents=[common], help="the main job on the embedded default")
    p.add_argument("--out", default="demo_out")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("doctor", parents=[common], help="ffmpeg, hardware encoders, encoder per profile")
    p.add_argument("--hw", choices=HW_CHOICES)
    p.set_defaults(func=cmd_doctor)

    sub.add_parser("profiles", parents=[common], help="the profile matrix").set_defaults(func=cmd_profiles)

    p = sub.add_parser("probe", parents=[common], help="facts about a media file")
    p.add_argument("file")
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("validate", parents=[common], help="validate a project completely")
    p.add_argument("project")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("proxies", parents=[common], help="ensure proxies for every video asset of a project")
    p.add_argument("project")
    p.add_argument("--profile", default="draft_360p", choices=["draft_360p", "draft_480p", "preview_720p"])
    p.add_argument("--hw", choices=HW_CHOICES)
    p.add_argument("--start", help="only assets visible from this time (seconds)")
    p.add_argument("--end", help="only assets visible before this time (seconds)")
    p.set_defaults(func=cmd_proxies)

    p = sub.add_parser("serve", parents=[common], help="the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)

    for name, func, helptext in (("plan", cmd_plan, "the deterministic render plan (dry run)"),
                                 ("render", cmd_render, "render a project")):
        p = sub.add_parser(name, parents=[common], help=helptext)
        p.add_argument("project")
        p.add_argument("--profile", required=True, choices=list(PROFILES))
        p.add_argument("--hw", choices=HW_CHOICES)
        if name == "render":
            p.add_argument("-o", "--output", required=True)
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 for bad flags, 0 for --help
        return int(exc.code or 0)
    if args.home:
        os.environ["CUTLITE_HOME"] = args.home
    started = time.monotonic()
    try:
        return args.func(args)
    except CutliteError as exc:
        _report_error(args, exc)
        return exc.exit_code
    except KeyboardInterrupt:
        _report_error(args, Cancelled("cancelled by the user"))
        return 130
    finally:
        if os.environ.get("CUTLITE_DEBUG_TIMING"):
            err_console.print(f"({time.monotonic() - started:.2f} s)")


def _report_error(args: argparse.Namespace, exc: CutliteError) -> None:
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps({"error": exc.to_dict()}, indent=2, default=str) + "\n")
    problems = exc.context.get("problems")
    if problems:
        err_console.print(f"[red]error[/red] ({exc.code}): {len(problems)} problem(s)")
        for p in problems:
            err_console.print(f"  - {p}", markup=False, highlight=False)
    else:
        err_console.print("[red]error[/red]", f"({exc.code}) {exc.message}".replace("[", "\\["), highlight=False)
    if exc.stage:
        err_console.print(f"  stage: {exc.stage}", markup=False, highlight=False)
    if exc.hint:
        err_console.print(f"  hint: {exc.hint}", markup=False, highlight=False)
    tail = exc.context.get("stderr_tail")
    if tail:
        err_console.print("  ffmpeg stderr (tail):\n" + str(tail), markup=False, highlight=False)


if __name__ == "__main__":
    sys.exit(main())
