"""The render service: the public door to planning and rendering.

``RenderService.plan_project`` loads, validates, gathers sources, decides hardware and builds the
plan (a dry run raises with every problem listed). ``RenderService.render`` runs a plan in one
ffmpeg pass into a temporary file beside the output and renames it into place only when ffmpeg
succeeded and the file has the planned frame count: a failure or a cancel leaves no partial file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..errors import (AssetError, Cancelled, CutliteError, FFmpegError, ValidationError)
from .ffmpeg_runner import FFmpegRunner, HardwareReport, detect_hardware
from .hardware import HardwareDecision, decide_hardware, requested_hw
from .jobs import OUTPUT_OPTIONS, JobRepository, JobState, Limits, derive_job_id, public_job
from .plan import RenderPlan, build_plan, hash_plan, source_identities
from .profiles import PROFILES, RenderProfile, get_profile
from .project import Project, load_project
from .sources import AssetLookup, Sources, gather_sources

if TYPE_CHECKING:
    from .proxies import ProxyOutcome

__all__ = ["RenderService", "RenderResult", "FFmpegError", "RenderProfile", "PROFILES", "RenderPlan",
           "CutliteError", "Cancelled", "load_project", "ensure_proxies_for_project", "ProxyOutcome", "JobState"]

Progress = Callable[[float, dict[str, str]], None]


@dataclass(frozen=True)
class RenderResult:
    output: str
    frames: int
    duration: str
    elapsed: float
    plan_hash: str
    encoder: str


class RenderService:
    def __init__(self, runner: FFmpegRunner | None = None, *, asset_lookup: AssetLookup | None = None,
                 hardware: HardwareReport | None = None, library: Any = None) -> None:
        self.runner = runner or FFmpegRunner()
        self._library = library
        self.asset_lookup = asset_lookup or self._lookup_in_media_v2
        self._hardware = hardware

    @property
    def library(self) -> Any:
        """The media_v2 library, opened on first use: projects of local paths never need it."""
        if self._library is None:
            from ..media_v2.library import MediaLibrary
            self._library = MediaLibrary()
        return self._library

    def _lookup_in_media_v2(self, project: Project, asset_id: str) -> str | None:
        return self.library.lookup(project, asset_id)

    @property
    def hardware(self) -> HardwareReport:
        if self._hardware is None:
            self._hardware = detect_hardware(self.runner)
        return self._hardware

    # -------------------------------------------------------------- planning

    def load(self, project: str | Path | dict[str, Any] | Project) -> tuple[Project, Path]:
        """The validated project and the folder its relative paths resolve against."""
        if isinstance(project, Project):
            return project, Path.cwd()
        if isinstance(project, (str, Path)) and not str(project).lstrip().startswith("{"):
            return load_project(project), Path(project).resolve().parent
        return load_project(project), Path.cwd()

    def gather(self, project: Project, base_dir: Path) -> Sources:
        return gather_sources(project, base_dir, lookup=self.asset_lookup)

    def decide(self, profile: RenderProfile, hw: str | None) -> HardwareDecision:
        choice = requested_hw(hw)
        # a CPU render needs no GPU probe
        return decide_hardware(choice, profile.codec, None if choice == "cpu" else self.hardware)

    def plan_project(self, project: str | Path | dict[str, Any] | Project, profile: str,
                     hw: str | None = None, *, base_dir: Path | None = None,
                     chunk_seconds: Any = None) -> RenderPlan:
        """Load -> validate -> gather -> decide -> plan. Raises with every blocking problem."""
        proj, folder = self.load(project)
        prof = get_profile(profile)
        sources = self.gather(proj, base_dir or folder)
        if sources.problems:
            raise AssetError(f"{len(sources.problems)} blocking problem(s): " + "; ".join(sources.problems),
                             stage="plan", problems=sources.problems,
                             hint="fix or register the listed assets, then plan again")
        decision = self.decide(prof, hw)
        from .job_runner import chunk_frames_of

        return build_plan(proj, sources.media, prof, decision, fonts=sources.fonts, warnings=sources.warnings,
                          chunk_frames=chunk_frames_of(chunk_seconds, prof.output_fps(proj.settings.fps)))

    # -------------------------------------------------------------- rendering

    # -------------------------------------------------------------- jobs

    @property
    def jobs(self) -> JobRepository:
        return JobRepository(self.library.registry.engine)

    def submit_job(self, project: str | Path | dict[str, Any] | Project, profile: str, *,
                   options: dict[str, Any] | None = None, job_id: str | None = None, hw: str | None = None,
                   base_dir: Path | None = None, output: str | None = None, need_slot: bool = False,
                   limits: Limits | None = None) -> tuple[dict[str, Any], bool]:
        """Plan (validating everything) and record a QUEUED job; the same submission finds the same job."""
        proj, folder = self.load(project)
        opts = dict(options or {})
        if opts.get("chunk_seconds") is not None:
            opts["chunk_seconds"] = str(opts["chunk_seconds"])
        plan = self.plan_project(proj, profile, hw, base_dir=base_dir or folder,
                                 chunk_seconds=opts.get("chunk_seconds"))
        # identified by the portable plan hash: the same submission to API machines whose caches
        # differ is the same job
        portable = hash_plan(plan, source_identities(proj))
        identity = {"tenant": proj.tenant, "env": proj.env, "plan_hash": portable, "profile": profile,
                    "options": {k: opts.get(k) for k in OUTPUT_OPTIONS}}
        jid = job_id or derive_job_id(proj.tenant, proj.env, portable, profile, opts)
        params = {"project": proj.canonical(), "base_dir": str((base_dir or folder).resolve()), "options": opts,
                  "hw": hw, "output": str(Path(output).resolve()) if output else None,
                  # what a worker on another machine checks its own plan against, and plans with
                  "portable_plan_hash": portable, "hw_family": plan.meta["hardware"]["family"]}
        return self.jobs.submit(job_id=jid, tenant=proj.tenant, env=proj.env, profile=profile, params=params,
                                identity=identity, plan_hash=plan.plan_hash,
                                chunks=[(c.start_frame, c.end_frame) for c in plan.chunks],
                                limits=limits or Limits.from_env(), need_slot=need_slot)

    def run_job(self, job_id: str, *, progress: Any = None, cancel: threading.Event | None = None,
                workers: int | None = None, limits: Limits | None = None) -> dict[str, Any]:
        from .job_runner import JobRunner

        return JobRunner(self, self.jobs).run(job_id, progress=progress, cancel=cancel, workers=workers,
                                              limits=limits)

    def resume_job(self, job_id: str, **kw: Any) -> dict[str, Any]:
        """Re-render only what is not verified complete: FAILED, CANCELED or abandoned RUNNING jobs."""
        self.jobs.requeue(job_id)
        return self.run_job(job_id, **kw)

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        job = self.jobs.request_cancel(job_id)
        from .distributed import cancel_if_idle
        cancel_if_idle(self, job_id)  # a job on workers with nothing running ends at once
        return self.jobs.get(job_id) if job["state"] == "RUNNING" else job

    def dispatch_job(self, job_id: str, limits: Limits | None = None) -> bool:
        """Hand a QUEUED job to the Celery workers (``CUTLITE_EXECUTOR=celery``); False if it must
        wait (limits)."""
        from . import distributed
        from .celery_app import base_queue, enqueue

        return distributed.dispatch(self, job_id, enqueue, base_queue(), limits or Limits.from_env())

    def job_view(self, job_id: str, tenant: str | None = None, env: str | None = None) -> dict[str, Any]:
        job = self.jobs.get(job_id, tenant, env)
        view = public_job(job, self.jobs.chunks(job_id), stale=self.jobs.is_stale(job))
        art = self.library.registry.artifact_by_key(job["tenant"], job["env"], job["output_key"]) \
            if job["output_key"] else None
        view["output_artifact"] = art.model_dump() if art else None
        return view

    # -------------------------------------------------------------- rendering

    def render(self, plan: RenderPlan, output: str | Path, *, progress: Progress | None = None,
               cancel: threading.Event | None = None, timeout: float | None = None,
               stall_timeout: float | None = None) -> RenderResult:
        """One ffmpeg pass into ``output``, which appears only once complete and verified."""
        out = Path(output).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        partial = out.parent / f".{out.name}.partial-{os.getpid()}-{threading.get_ident()}.mp4"
        try:
            self.encode(plan, partial, progress=progress, cancel=cancel, timeout=timeout,
                        stall_timeout=stall_timeout)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
        if progress is not None:
            progress(1.0, {"progress": "end"})
        return RenderResult(str(out), plan.frames, plan.duration, time.monotonic() - start, plan.plan_hash,
                            str(plan.meta.get("encoder")))

    def encode(self, plan: RenderPlan, target: Path, *, progress: Progress | None = None,
               cancel: threading.Event | None = None, timeout: float | None = None, stage: str = "render",
               stall_timeout: float | None = None, **context: Any) -> None:
        """Run ``plan`` into ``target`` (in a private work folder) and check its frame count."""
        with tempfile.TemporaryDirectory(prefix="cutlite-work-") as work:
            _write_work_folder(plan, Path(work))

            def on_progress(block: dict[str, str]) -> None:
                if progress is not None:
                    frame = int(block.get("frame", "0") or 0)
                    progress(min(1.0, frame / plan.frames) if plan.frames else 1.0, block)

            self.runner.run(plan.argv(str(target)), stage=stage, cwd=work, timeout=timeout, cancel=cancel,
                            on_progress=on_progress, stall_timeout=stall_timeout, plan_hash=plan.plan_hash,
                            profile=plan.profile, **context)
        if plan.streams != "audio":
            frames = count_video_frames(target)
            if frames != plan.frames:
                raise FFmpegError(f"the output has {frames} frames, the plan {plan.frames}", stage="verify",
                                  plan_hash=plan.plan_hash, retryable=True, **context,
                                  hint="this is an engine bug if it repeats: report it with `cutlite plan --json`")


def ensure_proxies_for_project(project: str | Path | dict[str, Any] | Project, profile: str = "draft_360p", *,
                               service: RenderService | None = None, hw: str | None = None,
                               start: Any = None, end: Any = None, base_dir: Path | None = None,
                               max_parallel: int = 2, cancel: threading.Event | None = None) -> list[ProxyOutcome]:
    """Make sure every video asset the project uses (within ``[start, end)`` seconds, if given) has a
    proxy for ``profile``: reused by cache key, else generated. Returns an outcome per asset."""
    from .proxies import ProxyLadder
    from .timebase import parse_time

    service = service or RenderService()
    proj, folder = service.load(project)
    ladder = ProxyLadder(service, service.library, max_parallel=max_parallel)
    return ladder.ensure_for_project(proj, base_dir or folder, get_profile(profile), hw=hw,
                                     start=None if start is None else parse_time(start),
                                     end=None if end is None else parse_time(end), cancel=cancel)


def _write_work_folder(plan: RenderPlan, work: Path) -> None:
    for name, text in plan.work_files().items():
        (work / name).write_text(text, encoding="utf-8")
    for source, name in plan.links.items():
        try:
            os.symlink(source, work / name)
        except OSError:
            shutil.copyfile(source, work / name)


def count_video_frames(path: str | Path) -> int:
    """Frames in the first video stream, counted from packets (one packet per frame)."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            return sum(1 for p in container.demux(stream) if p.size)
    except (av.FFmpegError, IndexError) as exc:
        raise ValidationError([f"output: cannot read back {path}: {exc}"], stage="verify") from None
