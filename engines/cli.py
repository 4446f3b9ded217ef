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
from typing import TYPE_CHECKING, Any

from .errors import (
    AssetError,
    BackpressureError,
    Cancelled,
    CutliteError,
    FFmpegError,
    Forbidden,
    HardwareError,
    JobError,
    MissingDependency,
    NotFound,
    TooLarge,
    Unauthorized,
    ValidationError,
    from_record,
    most_specific,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


_consoles: dict[bool, Console] = {}


def _console(stderr: bool = False) -> Console:
    """rich's Console for stdout (tables for people) or stderr (logs and progress), made on first
    use: a command run with ``--json`` never imports rich (~40 ms of a cold ``cutlite preview``)."""
    if stderr not in _consoles:
        from rich.console import Console

        _consoles[stderr] = Console(stderr=stderr)
    return _consoles[stderr]


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def _emit(args: argparse.Namespace, doc: Any, table: Table | str | None = None) -> None:
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
    elif table is not None:
        _console().print(table)


def _table(title: str, rows: list[dict[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for key in (rows[0].keys() if rows else []):
        table.add_column(str(key))
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    return table


# ---------------------------------------------------------------- commands

def cmd_profiles(args: argparse.Namespace) -> int:
    from engines.ffmpeg.profiles import FAMILIES, FPS_RULE, GPU_CODECS, PROFILES, resolve_encoder

    rows = [p.to_row() for p in PROFILES.values()]
    gpu = []
    for p in PROFILES.values():
        for family in FAMILIES if p.codec in GPU_CODECS else ("cpu",):  # the delivery formats: CPU only
            e = resolve_encoder(p, family, p.output_fps(p.fps_cap or 30))
            gpu.append({"profile": p.name, "family": family, "encoder": e.encoder, "pix_fmt": e.pix_fmt,
                        "args": " ".join(e.codec_args)})
    table = _table("Render profiles", rows)
    table.caption = FPS_RULE
    _emit(args, {"profiles": rows, "fps_rule": FPS_RULE, "encoders": gpu}, table)
    if not args.json:
        _console().print(_table("Encoder mapping", gpu))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from engines.ffmpeg.hardware import decide_hardware, requested_hw
    from engines.ffmpeg.profiles import PROFILES
    from engines.ffmpeg.runner import FFmpegRunner, detect_hardware

    runner = FFmpegRunner()
    report = detect_hardware(runner, refresh=args.refresh)
    calibration = _calibrate(args) if args.calibrate else None
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
           "home": str(Path(os.environ.get("CUTLITE_HOME", ".cutlite")).resolve()), "calibration": calibration}
    if not args.json:
        _console().print(f"ffmpeg: {report.ffmpeg} ({report.ffmpeg_version})")
        _console().print(f"state folder: {doc['home']}")
        _console().print(_table("Hardware encoders (trial encode)",
                                [{"encoder": p.encoder, "listed": p.listed, "works": p.usable, "reason": p.reason}
                                 for p in report.probes]))
        _console().print(_table(f"Encoder per profile (--hw {requested})", choices))
    else:
        _emit(args, doc)
    return 0


def _calibrate(args: argparse.Namespace) -> dict[str, Any]:
    """Measure the preview profiles' throughput on this machine (``latency.py``)."""
    from engines.video_preview.latency import calibrate
    from engines.video_preview.strategy import STRATEGIES
    from engines.video_render.service import RenderService

    profiles = args.calibrate_profiles.split(",") if args.calibrate_profiles else list(STRATEGIES.values())
    if not args.json:
        _console(stderr=True).print(f"calibrating {', '.join(profiles)} (a few seconds each) ...")
    model = calibrate(RenderService(), profiles,
                      report=None if args.json else lambda line: _console(stderr=True).print(f"  {line}"))
    return {"file": str(model.path()), "profiles": model.table}


def cmd_probe(args: argparse.Namespace) -> int:
    from engines.ffmpeg.probe import probe

    info = probe(args.file).to_dict()
    rows = [{"field": k, "value": v} for k, v in info.items() if not isinstance(v, dict)]
    for section in ("video", "audio"):
        for k, v in (info.get(section) or {}).items():
            rows.append({"field": f"{section}.{k}", "value": v})
    if args.deep:  # decode every packet: where is the file damaged?
        from engines.ffmpeg.damage import scan_damage

        spans = scan_damage(args.file)
        info["damage"] = [s.to_dict() for s in spans]
        rows.append({"field": "damage", "value": "none found (every packet decoded)" if not spans else
                     f"{len(spans)} damaged span(s)"})
        for s in spans:
            rows.append({"field": f"damage.{s.stream}", "value": f"{float(s.start):.2f}-{float(s.end):.2f} s: "
                                                                 f"{s.errors} error(s), e.g. {s.example}"})
    _emit(args, info, _table(Path(args.file).name, rows))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from engines.video_render.service import RenderService

    service = RenderService()
    project, folder = service.load(_project_input(args))
    sources = service.gather(project, folder)
    doc = {"valid": not sources.problems, "problems": sources.problems, "warnings": sources.warnings}
    if args.json:
        _emit(args, doc)
    else:
        for p in sources.problems:
            _console(stderr=True).print(f"[red]error[/red] {p}")
        for w in sources.warnings:
            _console(stderr=True).print(f"[yellow]warning[/yellow] {w}")
        if not sources.problems:
            _console().print(f"{project.id}: valid ({len(sources.media)} assets probed)")
    return 2 if sources.problems else 0


def cmd_plan(args: argparse.Namespace) -> int:
    from engines.video_render.service import RenderService

    plan = RenderService().plan_project(_project_input(args), args.profile, args.hw, slate_missing=_imported(args))
    if args.json:
        _emit(args, plan.model_dump())
        return 0
    _console().print(f"plan {plan.plan_hash}  profile {plan.profile}  encoder {plan.meta['encoder']}")
    _console().print(f"hardware: {plan.meta['hardware']['reason']}")
    _console().print(f"output: {plan.width}x{plan.height} @ {plan.fps} fps, {plan.frames} frames "
                     f"({plan.duration} s), audio {plan.samples} samples @ {plan.sample_rate} Hz")
    _console().print(_table("Inputs", [{"#": i.index, "clip": i.clip, "asset": i.asset, "kind": i.kind,
                                        "path": i.path, "args": " ".join(i.args)} for i in plan.inputs]))
    _console().print("filter graph:\n" + plan.filter_graph, markup=False, highlight=False)
    for w in plan.meta["warnings"]:
        _console(stderr=True).print(f"[yellow]warning[/yellow] {w}")
    return 0


def _imported(args: argparse.Namespace) -> bool:
    """PROJECT is another editor's timeline (imported first): its media that did not come along
    is drawn as slates rather than refusing the render."""
    from engines.interchange import is_importable

    return is_importable(args.project)


def _project_input(args: argparse.Namespace) -> Any:
    """The PROJECT argument: a cutlite project file as it is, or any timeline ``cutlite import``
    reads, imported first (its warnings on stderr)."""
    from engines.interchange import import_timeline

    values = _template_values(getattr(args, "var", None))
    if values and _imported(args):
        raise ValidationError(["--var: values fill a cutlite template (a project with \"variables\"), "
                               "not an imported timeline"])
    if values:
        from engines.model.template import FilledTemplate

        return FilledTemplate(Path(args.project), values)
    if not _imported(args):
        return args.project
    result = import_timeline(args.project, media_roots=args.media_root or (), tenant=args.tenant, env=args.env)
    for w in result.warnings:
        _console(stderr=True).print("[yellow]import warning[/yellow]", escape(w), highlight=False)
    return result.project


def _template_values(pairs: list[str] | None) -> dict[str, str]:
    """``--var NAME=VALUE`` flags as a dict; each malformed or repeated one named."""
    values: dict[str, str] = {}
    problems = []
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep or not name:
            problems.append(f"--var {pair}: expected NAME=VALUE")
        elif name in values:
            problems.append(f"--var {name}: given twice")
        else:
            values[name] = value
    if problems:
        raise ValidationError(problems)
    return values


def cmd_import(args: argparse.Namespace) -> int:
    from engines.interchange import import_timeline

    result = import_timeline(args.file, media_roots=args.media_root or (), tenant=args.tenant, env=args.env)
    if args.output:
        _write_json(Path(args.output), result.project)
    if args.json:
        _emit(args, {"project": result.project, "warnings": result.warnings,
                     **({"output": str(Path(args.output).resolve())} if args.output else {})})
    elif not args.output:
        sys.stdout.write(json.dumps(result.project, indent=2, ensure_ascii=False) + "\n")
    for w in result.warnings if not args.json else ():
        _console(stderr=True).print("[yellow]warning[/yellow]", escape(w), highlight=False)
    if args.output and not args.json:
        tracks = result.project["tracks"]
        _console(stderr=True).print(f"{args.output}: {len(tracks)} track(s), {sum(len(t['clips']) for t in tracks)} clip(s), "
                                    f"{len(result.warnings)} warning(s)", markup=False, highlight=False)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from engines.interchange.otio_export import export_otio

    out = export_otio(args.project, args.output)
    _emit(args, {"output": str(out.resolve()), "format": args.format}, f"wrote {out}")
    return 0


def _write_json(path: Path, doc: Any) -> None:
    """Whole or not at all: a temporary file beside the target, renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


class _NoBar:
    """The progress bar of a ``--json`` run: none (rich.progress is ~50 ms of a batch's start-up)."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, *_a: Any, **_k: Any) -> int:
        return 0

    def update(self, *_a: Any, **_k: Any) -> None:
        return None


def _run_with_progress(args: argparse.Namespace, title: str, run: Any) -> dict[str, Any]:
    """Run a job with a progress bar on stderr; Ctrl-C cancels it cleanly (exit 130)."""
    cancel = threading.Event()
    if args.json:
        progress: Any = _NoBar()
    else:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                            TimeElapsedColumn(), console=_console(stderr=True))
    with progress as bar:
        task = bar.add_task(title, total=1.0)
        outcome: dict[str, Any] = {}
        finished = threading.Event()

        def work() -> None:
            try:
                outcome["job"] = run(cancel=cancel, progress=lambda f, _b: bar.update(task, completed=f))
            except BaseException as exc:  # re-raised in the main thread below
                outcome["error"] = exc
            finally:
                finished.set()

        threading.Thread(target=work, daemon=True).start()
        # Wait on an Event, not Thread.join: a join interrupted by Ctrl-C can report the thread
        # finished while it still runs (CPython), and the job would be left RUNNING.
        try:
            while not finished.wait(0.2):
                pass
        except KeyboardInterrupt:
            cancel.set()
            finished.wait(60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("job") or {}


def _finish(args: argparse.Namespace, jobs: Any, job_id: str) -> int:
    """Print the job; a CANCELED or FAILED one raises its own error (so it exits with its own code)."""
    view = jobs.view(job_id)
    art = view.get("output_artifact") or {}
    loud = (art.get("meta") or {}).get("loudness")
    view["loudness"] = loud  # measured on the output: integrated_lufs, true_peak_dbtp, target_lufs
    rows = [{"job": view["id"], "state": view["state"], "chunks": len(view["chunks"]),
             "reused": sum(1 for c in view["chunks"] if c["reused"]), "output": view["output_key"] or "-",
             "loudness": _loudness_text(loud)}]
    if not (args.json and view["state"] in ("CANCELED", "FAILED")):  # with --json the error is the one document
        _emit(args, view, _table("Render job", rows))
    if not args.json:
        for w in view.get("warnings", []):
            _console(stderr=True).print(f"[yellow]warning[/yellow] {w}")
    if view["state"] == "CANCELED":
        raise Cancelled("cancelled by the user", stage="render", job_id=job_id)
    if view["state"] == "FAILED":
        error = from_record(view["error"])  # rebuilt into its own class: it exits with its own code
        error.context.setdefault("job_id", job_id)
        raise error
    return 0


def _loudness_text(loud: dict[str, Any] | None) -> str:
    if not loud:
        return "-"
    def db(x: float | None) -> str:
        return "-inf" if x is None else f"{x:.1f}"
    target = f" (target {loud['target_lufs']:g})" if loud.get("target_lufs") is not None else ""
    return f"{db(loud.get('integrated_lufs'))} LUFS, {db(loud.get('true_peak_dbtp'))} dBTP{target}"


def cmd_render(args: argparse.Namespace) -> int:
    from .jobs.records import JobState
    from .jobs.runner import copy_out
    from .video_render.service import RenderService

    jobs = RenderService().job_service
    from .settings import default_chunk_seconds

    options = {"chunk_seconds": args.chunk_seconds or default_chunk_seconds(), "workers": args.workers,
               "slate_missing": _imported(args)}
    job, created = jobs.submit(_project_input(args), args.profile, options=options, job_id=args.job_id, hw=args.hw,
                               output=args.output, need_slot=not jobs.on_workers)
    _console(stderr=True).print(f"job {job.id} ({'new' if created else 'existing: ' + job.state.value})")
    if jobs.on_workers and args.detach and job.state != JobState.COMPLETED:
        jobs.requeue_if_needed(job)
        handed = jobs.dispatch(job.id)
        _emit(args, jobs.view(job.id), f"job {job.id} handed to the workers" if handed else
              f"job {job.id} is queued: over the running limits now; an API server's executor or "
              f"`cutlite jobs resume {job.id}` hands it out when a slot frees")
        return 0
    where = " on workers" if jobs.on_workers else ""
    _run_with_progress(args, f"render {args.profile}{where} ({job.id})",
                       lambda **kw: jobs.start(job.id, workers=args.workers, **kw))
    done = jobs.jobs.get(job.id)
    if done.state == JobState.COMPLETED and (jobs.on_workers or job.state == JobState.COMPLETED):
        # (a job run here copied its output itself once COMPLETED)
        copy_out(jobs.output_path(done), Path(args.output))
    return _finish(args, jobs, job.id)


def cmd_batch(args: argparse.Namespace) -> int:
    from .jobs.batch import run_batch
    from .video_render.service import RenderService

    rows = _read_rows(Path(args.rows))
    jobs = RenderService().job_service
    from .settings import default_chunk_seconds

    options = {"chunk_seconds": args.chunk_seconds or default_chunk_seconds(), "workers": args.workers}
    state: dict[str, Any] = {}

    def run(cancel: threading.Event, progress: Any) -> dict[str, Any]:
        state["rows"] = run_batch(jobs, Path(args.template), rows, args.profile, args.output, options=options,
                                  hw=args.hw, workers=args.workers, cancel=cancel,
                                  progress=lambda f: progress(f, {}))
        return {}

    _run_with_progress(args, f"batch of {len(rows)} row(s), {args.profile}", run)
    outcomes = state.get("rows", [])
    manifest = {"template": str(Path(args.template).resolve()), "profile": args.profile,
                "rows": [o.to_dict() for o in outcomes],
                "completed": sum(o.state == "COMPLETED" for o in outcomes),
                "failed": sum(o.state not in ("COMPLETED", "NOT_STARTED") for o in outcomes),
                "not_started": sum(o.state == "NOT_STARTED" for o in outcomes)}
    _emit(args, manifest, None if args.json else _table(f"Batch ({manifest['completed']}/{len(outcomes)} completed)", [
        {"row": o.row, "state": o.state, "job": o.job_id or "-", "output": o.output or "-",
         "error": (o.error or {}).get("message", "-")} for o in outcomes]))
    if manifest["not_started"]:
        raise Cancelled("the batch was cancelled", stage="batch")
    if manifest["failed"]:
        return 2 if all(o.state in ("COMPLETED", "INVALID") for o in outcomes) else 1
    return 0


def _read_rows(path: Path) -> list[dict[str, Any]]:
    """A batch's rows: a CSV file (a header of variable names) or a JSON array of objects."""
    import csv
    from decimal import Decimal

    from .documents import read_json_file

    if path.suffix.lower() != ".csv":  # JSON through the one loader: its limits, duplicate keys, NaN
        rows: Any = read_json_file(path, stage="batch", parse_float=Decimal, what=f"rows file {path.name}")
    else:
        try:
            with path.open(newline="", encoding="utf-8-sig") as f:
                rows = list(csv.DictReader(f))
        except OSError as exc:
            raise ValidationError([f"rows: cannot read {path}: {exc.strerror}"]) from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ValidationError([f"rows: {path.name} is not a valid CSV file: {exc}"]) from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValidationError([f"rows: {path.name} must be a JSON array of objects (NAME: value)"])
    bad = [f"rows[{i}]: a CSV row with more cells than the header has columns"
           for i, r in enumerate(rows) if None in r]
    if bad:
        raise ValidationError(bad)
    if not rows:
        raise ValidationError([f"rows: {path.name} has no rows"])
    return rows


def cmd_jobs(args: argparse.Namespace) -> int:
    from .video_render.service import RenderService

    jobs = RenderService().job_service
    if args.action == "list":
        views = [jobs.view(j.id) for j in jobs.jobs.list(state=args.state)]
        rows = [{"job": v["id"], "tenant": f"{v['tenant']}/{v['env']}",
                 "state": v["state"] + (" (stale)" if v["stale"] else ""), "profile": v["profile"],
                 "progress": f"{v['progress']:.0%}", "created": v["created_at"]} for v in views]
        _emit(args, {"jobs": views}, _table("Jobs", rows))
        return 0
    if not args.job_id:
        raise ValidationError([f"job_id: `cutlite jobs {args.action}` needs a job id"])
    if args.action == "show":
        view = jobs.view(args.job_id)
        _emit(args, view, _table(f"Job {view['id']}: {view['state']}", view["chunks"]))
        return 0
    if args.action == "cancel":
        job = jobs.cancel(args.job_id)
        _emit(args, jobs.view(args.job_id), f"cancel requested: {job.state.value}")
        if not args.json:
            _console().print(f"{args.job_id}: cancel requested ({job.state.value})")
        return 0
    # resume: back to the queue whatever it ended as, then run wherever the executor runs jobs
    jobs.jobs.requeue(args.job_id)
    _run_with_progress(args, f"resume {args.job_id}", lambda **kw: jobs.start(args.job_id, **kw))
    return _finish(args, jobs, args.job_id)


def cmd_proxies(args: argparse.Namespace) -> int:
    from engines.video_render.service import ensure_proxies_for_project

    project: Any = args.project
    values = _template_values(args.var)
    if values:  # a template's proxies: those of the assets it uses with these values
        from engines.model.template import FilledTemplate

        project = FilledTemplate(Path(args.project), values)
    outcomes = ensure_proxies_for_project(project, args.profile, hw=args.hw, start=args.start, end=args.end)
    rows = [{"asset": o.asset, "asset_id": o.asset_id or "-", "status": o.status,
             "seconds": f"{o.seconds:.2f}", "detail": o.detail, "key": o.key or "-"} for o in outcomes]
    _emit(args, {"profile": args.profile, "results": [o.to_dict() for o in outcomes]},
          _table(f"Proxies ({args.profile})", rows))
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def cmd_preview(args: argparse.Namespace) -> int:
    from engines.video_preview.service import PreviewService

    service = PreviewService(allow_full_res_fallback=False if args.no_fallback else None)
    try:
        try:
            result = service.preview(args.project, args.strategy, args.start, args.end, output=args.output,
                                     hls=args.hls, hw=args.hw)
            _print_preview(args, result)
        finally:
            # a queued proxy outlives no process: it is made here, for the next preview
            pending = service.queued_count()
            if pending and not args.json:
                _console(stderr=True).print(f"making {pending} prox{'y' if pending == 1 else 'ies'} for the next preview "
                                            f"(Ctrl-C skips)")
            service.wait_for_proxies()
            service.close()
    except KeyboardInterrupt:
        service.close(cancel=True)
        raise
    return 0


def _process_age_ms() -> float:
    """Milliseconds since this process started (Linux: from /proc; elsewhere since this module loaded)."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, (uptime - start_ticks / os.sysconf("SC_CLK_TCK")) * 1000)
    except (OSError, ValueError, IndexError):
        return (time.monotonic() - _LOADED_AT) * 1000


_LOADED_AT = time.monotonic()


def _wait(result: Any) -> dict[str, float]:
    """What the user of ``cutlite preview`` waits for: start-up, registry and planning (measured, up to
    the plan being ready) plus the render (estimated by the latency model, and measured)."""
    age = _process_age_ms()
    before_render = age - (time.monotonic() - result.planned_at) * 1000
    wait = {"startup_and_planning_ms": round(before_render), "render_estimate_ms": round(result.estimate.ms),
            "estimated_total_ms": round(before_render) + round(result.estimate.ms)}
    if result.measured_ms is not None:
        wait["render_ms"] = round(result.measured_ms)
        wait["total_ms"] = round(age)
    return wait


def _print_preview(args: argparse.Namespace, result: Any) -> None:
    doc = result.to_dict()
    wait = _wait(result)
    doc["wait"] = wait
    if args.json:
        _emit(args, doc)
        return
    plan = result.plan
    _console().print(f"preview {args.strategy}: {result.profile} {plan.width}x{plan.height} @ {plan.fps} fps, "
                     f"encoder {plan.meta['encoder']}, plan {plan.plan_hash[:12]}")
    _console().print(f"window [{doc['window']['start']}, {doc['window']['end']}) s: {plan.frames} frames; "
                     f"estimated {doc['estimated_latency_ms']} ms ({result.estimate.source} throughput)")
    _console().print(_table("Read from", [{"asset": a.asset, "read from": a.read_from,
                                           "proxy": a.proxy_profile or "-", "detail": a.detail}
                                          for a in result.assets]))
    for w in result.warnings:
        _console(stderr=True).print(f"[yellow]warning[/yellow] {w}", highlight=False)
    if result.output:
        _console().print(f"rendered {result.output} in {result.measured_ms:.0f} ms "
                         f"(estimate {doc['estimated_latency_ms']} ms)")
        _console().print(f"wait: estimated {wait['estimated_total_ms']} ms from the command's start = start-up, "
                         f"registry and planning {wait['startup_and_planning_ms']} ms (measured) + render "
                         f"{wait['render_estimate_ms']} ms (estimated); took {wait['total_ms']} ms")
    if result.hls:
        _console().print(f"HLS {result.hls.playlist}: {result.hls.segments} segments, first after "
                         f"{result.hls.first_segment_ms:.0f} ms, all after {result.hls.total_ms:.0f} ms")


def cmd_still(args: argparse.Namespace) -> int:
    # the renderer alone: a still needs no job service (its imports cost a cold still ~0.17 s)
    from .rendering.renderer import Renderer
    from .rendering.stills import render_stills

    stills = render_stills(Renderer(), _project_input(args), args.at, args.output, profile=args.profile,
                           sources="exact" if args.exact else "auto")
    doc = {"profile": args.profile, "stills": [{"at": str(s.at), "frame": s.frame, "path": s.path} for s in stills]}
    # with --json no table is made: rich's import is ~10 % of a cold still
    _emit(args, doc, None if args.json else _table(f"Stills ({args.profile})", doc["stills"]))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from .extras import require

    require("celery", "celery", "cutlite worker")
    from .jobs.worker import run_worker

    run_worker(args.name, args.concurrency)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .access.keys import KeyStore
    from .access.secret import server_secret
    from .api import create_app
    from .http_limits import server_head_bytes

    server_secret(args.env)  # prod without CUTLITE_SECRET stops here
    keys = KeyStore()
    if keys.active_count(args.env if args.env == "prod" else None) == 0:
        if args.env != "dev" or not _loopback(args.host):
            raise ValidationError([f"keys: no active API key for a {args.env} server on {args.host}"], stage="serve",
                                  hint="make one first: cutlite keys create --tenant T --env E --role admin")
        # the first run on this machine: one admin key, shown once, so the tour and the studio just work
        key, secret = keys.create(args.tenant, "dev", role="admin", name="first-run dev key")
        _console(stderr=True).print(f"no API key existed: made {key.id} (tenant {key.tenant}, env dev, admin); "
                                    f"its secret is shown this once (paste it into http://{args.host}:{args.port}"
                                    "/studio, or send Authorization: Bearer <it>):", highlight=False)
        sys.stdout.write(secret + "\n")
        sys.stdout.flush()
    # h11 with a bounded buffer for the request line and headers: a longer head is refused by the
    # server itself; within it, the API's own limits answer in the JSON error shape
    uvicorn.run(create_app(env=args.env), host=args.host, port=args.port, log_level="info", http="h11",
                h11_max_incomplete_event_size=server_head_bytes())
    return 0


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_keys(args: argparse.Namespace) -> int:
    from .access.keys import KeyStore

    keys = KeyStore()
    if args.action == "create":
        if not args.tenant or not args.env:
            raise ValidationError([f"--{f}: `cutlite keys create` needs it" for f, v in
                                   (("tenant", args.tenant), ("env", args.env)) if not v], stage="keys")
        key, secret = keys.create(args.tenant, args.env, role=args.role, name=args.name or "")
        _emit(args, {"key": key.to_dict(), "secret": secret})
        if not args.json:
            _console(stderr=True).print(f"{key.id}: {key.role} key for {key.tenant}/{key.env}; the secret is "
                                        "shown this once, only its hash is kept:", highlight=False)
            sys.stdout.write(secret + "\n")
        return 0
    if args.action == "list":
        listed = keys.list(args.tenant, args.env)
        rows = [{"id": k.id, "name": k.name, "scope": f"{k.tenant}/{k.env}", "role": k.role,
                 "created": k.created_at, "last used": k.last_used_at or "never",
                 "revoked": k.revoked_at or "-"} for k in listed]
        _emit(args, {"keys": [k.to_dict() for k in listed]}, _table("API keys", rows))
        return 0
    if not args.key_id:
        raise ValidationError(["key_id: `cutlite keys revoke` needs a key id (cutlite keys list)"], stage="keys")
    key = keys.revoke(args.key_id)
    _emit(args, {"key": key.to_dict()}, f"{key.id} revoked at {key.revoked_at}")
    if not args.json:
        _console().print(f"{key.id} revoked at {key.revoked_at}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from .access.audit import AuditLog

    rows = AuditLog().list(tenant=args.tenant, env=args.env, key_id=args.key, limit=args.limit)
    table = [{"at": r["at"], "key": r["key_id"] or "-", "scope": f"{r['tenant'] or '-'}/{r['env'] or '-'}",
              "request": f"{r['method']} {r['route']}", "object": r["object"] or "-", "status": r["status"]}
             for r in rows]
    _emit(args, {"entries": rows}, _table("Audit log", table))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    steps: list[dict[str, Any]] = []

    def report(step: str, seconds: float, what: str) -> None:
        steps.append({"step": step, "seconds": round(seconds, 2), "made": what})
        if not args.json:
            _console(stderr=True).print(f"[green]✓[/green] {step:<22} {seconds:6.2f} s  {what}")

    results = run_demo(Path(args.out), report)
    _emit(args, {"steps": steps, **results}, _table("cutlite demo", steps))
    return 0


# ---------------------------------------------------------------- wiring

def build_parser() -> argparse.ArgumentParser:
    from engines.ffmpeg.hardware import HW_CHOICES
    from engines.ffmpeg.profiles import PROFILES, STILL_PROFILE
    from engines.video_preview.strategy import STRATEGIES

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    common.add_argument("--home", help="state folder (default $CUTLITE_HOME or ./.cutlite)")
    templating = argparse.ArgumentParser(add_help=False)  # where PROJECT may be a template
    templating.add_argument("--var", action="append", metavar="NAME=VALUE",
                            help="a template variable's value (repeat for several): text, a number, "
                                 "a colour #RRGGBB, or an asset's path or id")
    importing = argparse.ArgumentParser(add_help=False)  # where PROJECT may be another editor's timeline
    importing.add_argument("--media-root", action="append", metavar="DIR",
                           help="look media that is not where the timeline says up by file name here (repeatable)")
    importing.add_argument("--tenant", help="tenant of an imported project (default: local)")
    importing.add_argument("--env", choices=["dev", "staging", "prod"],
                           help="env of an imported project (default: dev)")
    parser = argparse.ArgumentParser(prog="cutlite", description="Render and preview engine", parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", parents=[common], help="the main job on the embedded default")
    p.add_argument("--out", default="demo_out")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("doctor", parents=[common], help="ffmpeg, hardware encoders, encoder per profile")
    p.add_argument("--hw", choices=HW_CHOICES)
    p.add_argument("--refresh", action="store_true",
                   help="probe the hardware again (trial encodes) instead of reading the kept report")
    p.add_argument("--calibrate", action="store_true",
                   help="measure preview throughput on this machine (stored under the state folder)")
    p.add_argument("--calibrate-profiles", help="comma-separated profiles to calibrate (default: the preview ones)")
    p.set_defaults(func=cmd_doctor)

    sub.add_parser("profiles", parents=[common], help="the profile matrix").set_defaults(func=cmd_profiles)

    p = sub.add_parser("probe", parents=[common], help="facts about a media file")
    p.add_argument("file")
    p.add_argument("--deep", action="store_true",
                   help="decode the whole file and report damaged spans (corrupt packets, missing references, "
                        "truncation)")
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("validate", parents=[common, importing, templating], help="validate a project completely")
    p.add_argument("project")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("import", parents=[common, importing],
                       help="another editor's timeline (OTIO, CapCut/JianYing draft, EDL, FCP XML, FCPXML, "
                            "Kdenlive) as a cutlite project")
    p.add_argument("file", help="the timeline file, or a CapCut/JianYing draft folder")
    p.add_argument("-o", "--output", help="write the project here (default: print it on stdout)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", parents=[common], help="a project as another editor's timeline")
    p.add_argument("project")
    p.add_argument("--format", required=True, choices=["otio"])
    p.add_argument("-o", "--output", required=True, help="the .otio file to write")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("proxies", parents=[common, templating],
                       help="ensure proxies for every video asset of a project")
    p.add_argument("project")
    p.add_argument("--profile", default="draft_360p", choices=["draft_360p", "draft_480p", "preview_720p"])
    p.add_argument("--hw", choices=HW_CHOICES)
    p.add_argument("--start", help="only assets visible from this time (seconds)")
    p.add_argument("--end", help="only assets visible before this time (seconds)")
    p.set_defaults(func=cmd_proxies)

    p = sub.add_parser("preview", parents=[common], help="a proxy-first preview plan with its latency estimate")
    p.add_argument("project")
    p.add_argument("--strategy", default="fast", choices=list(STRATEGIES))
    p.add_argument("--start", help="window start, seconds on the timeline (default: 0)")
    p.add_argument("--end", help="window end, seconds (default: the end)")
    target = p.add_mutually_exclusive_group()
    target.add_argument("-o", "--output", help="render the preview into this mp4")
    target.add_argument("--hls", metavar="DIR", help="render it as an HLS playlist (index.m3u8) whose segments "
                                                     "appear as they are encoded")
    p.add_argument("--hw", choices=HW_CHOICES)
    p.add_argument("--no-fallback", action="store_true",
                   help="refuse rather than read full-resolution sources when a proxy is missing")
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("serve", parents=[common], help="the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--env", choices=["dev", "staging", "prod"], default=os.environ.get("CUTLITE_ENV") or "dev",
                   help="the deployment (default $CUTLITE_ENV or dev): prod needs CUTLITE_SECRET and an API key")
    p.add_argument("--tenant", default="demo",
                   help="tenant of the one-time key a first dev run on loopback makes (default: demo)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("keys", parents=[common], help="API keys: create (the secret is shown once), list, revoke")
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("key_id", nargs="?")
    p.add_argument("--tenant")
    p.add_argument("--env", choices=["dev", "staging", "prod"])
    p.add_argument("--name", help="what the key is for (shown by keys list)")
    p.add_argument("--role", choices=["admin", "editor", "viewer"], default="editor")
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("audit", parents=[common], help="the audit log of mutating HTTP requests")
    p.add_argument("--tenant")
    p.add_argument("--env", choices=["dev", "staging", "prod"])
    p.add_argument("--key", help="only this key id's requests")
    p.add_argument("--limit", type=int, default=100, help="the newest N entries (default 100)")
    p.set_defaults(func=cmd_audit)

    for name, func, helptext in (("plan", cmd_plan, "the deterministic render plan (dry run)"),
                                 ("render", cmd_render, "render a project as a chunked, resumable job")):
        p = sub.add_parser(name, parents=[common, importing, templating], help=helptext)
        p.add_argument("project", help="a project file, or any timeline `cutlite import` reads")
        p.add_argument("--profile", required=True, choices=list(PROFILES))
        p.add_argument("--hw", choices=HW_CHOICES)
        if name == "render":
            p.add_argument("-o", "--output", required=True)
            p.add_argument("--chunk-seconds", help="chunk length in seconds (default: CUTLITE_CHUNK_SECONDS, "
                           "else one chunk per 20 s)")
            p.add_argument("--workers", type=int, default=1, help="chunks rendered at once")
            p.add_argument("--job-id", help="a job id of your own (default: derived from the parameters)")
            p.add_argument("--detach", action="store_true",
                           help="with CUTLITE_EXECUTOR=celery: hand the job to the workers and return")
        p.set_defaults(func=func)

    p = sub.add_parser("still", parents=[common, importing, templating], help="the composed frame(s) at timeline times")
    p.add_argument("project", help="a project file, or any timeline `cutlite import` reads")
    p.add_argument("--at", action="append", required=True, metavar="T",
                   help="a timeline time in seconds (\"1.5\", \"3/2\"); repeat for several")
    p.add_argument("--profile", default=STILL_PROFILE, choices=list(PROFILES),
                   help=f"the output size and rate the frames are taken at (default: {STILL_PROFILE})")
    p.add_argument("-o", "--output", required=True,
                   help="OUT.png or OUT.jpg; several times write OUT-<frame>.png")
    p.add_argument("--exact", action="store_true",
                   help="read every source, never a ready proxy: the render's frame to the pixel")
    p.set_defaults(func=cmd_still)

    p = sub.add_parser("batch", parents=[common], help="a template rendered once per row of values")
    p.add_argument("template", help="a project with \"variables\"")
    p.add_argument("rows", help="ROWS.csv (a header of variable names) or ROWS.json (an array of objects)")
    p.add_argument("--profile", required=True, choices=list(PROFILES))
    p.add_argument("-o", "--output", required=True,
                   help="the output path of each row, with {NAME} fields and {row}: 'out/{NAME}.mp4'")
    p.add_argument("--hw", choices=HW_CHOICES)
    p.add_argument("--chunk-seconds", help="chunk length in seconds (default: CUTLITE_CHUNK_SECONDS)")
    p.add_argument("--workers", type=int, default=1, help="chunks of a row's job rendered at once")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("worker", parents=[common], help="a Celery worker rendering chunks (scale-out)")
    p.add_argument("--name", help="the worker's name, recorded on every chunk it renders (default: cutlite)")
    p.add_argument("--concurrency", type=int, default=1, help="chunks rendered at once")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("jobs", parents=[common], help="the job repository")
    p.add_argument("action", choices=["list", "show", "cancel", "resume"])
    p.add_argument("job_id", nargs="?")
    p.add_argument("--state", choices=["QUEUED", "RUNNING", "FAILED", "CANCELED", "COMPLETED"])
    p.set_defaults(func=cmd_jobs)
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
        return exit_code(exc)
    except KeyboardInterrupt:
        _report_error(args, Cancelled("cancelled by the user"))
        return 130
    finally:
        if os.environ.get("CUTLITE_DEBUG_TIMING"):
            _console(stderr=True).print(f"({time.monotonic() - started:.2f} s)")


# The one map from the error tree to exit codes: the most specific class listed wins.
EXIT_CODES: dict[type[CutliteError], int] = {
    CutliteError: 1,          # runtime failure (ffmpeg failed, storage, broker, ...)
    FFmpegError: 1,
    ValidationError: 2,       # invalid input: bad project, bad flag, missing asset, refused request
    AssetError: 2,
    NotFound: 2,
    Forbidden: 2,
    Unauthorized: 2,
    TooLarge: 2,
    HardwareError: 2,
    JobError: 2,
    MissingDependency: 2,
    BackpressureError: 3,     # refused by backpressure: retry later
    Cancelled: 130,
}


def exit_code(exc: CutliteError) -> int:
    return most_specific(exc, EXIT_CODES)


def _report_error(args: argparse.Namespace, exc: CutliteError) -> None:
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps({"error": exc.to_dict()}, indent=2, default=str) + "\n")
    problems = exc.context.get("problems")
    if problems:
        _console(stderr=True).print(f"[red]error[/red] ({exc.code}): {len(problems)} problem(s)")
        for p in problems:
            _console(stderr=True).print(f"  - {p}", markup=False, highlight=False)
    else:
        _console(stderr=True).print("[red]error[/red]", f"({exc.code}) {exc.message}".replace("[", "\\["), highlight=False)
    if exc.stage:
        _console(stderr=True).print(f"  stage: {exc.stage}", markup=False, highlight=False)
    if exc.hint:
        _console(stderr=True).print(f"  hint: {exc.hint}", markup=False, highlight=False)
    tail = exc.context.get("stderr_tail")
    if tail:
        _console(stderr=True).print("  ffmpeg stderr (tail):\n" + str(tail), markup=False, highlight=False)


if __name__ == "__main__":
    sys.exit(main())
