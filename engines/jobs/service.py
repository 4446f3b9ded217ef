"""Render jobs as a service: submit, start, cancel, resume and view them.

The one place that chooses where a job's chunks run (``CUTLITE_EXECUTOR``): ``local`` runs them
in a pool of the calling process, ``celery`` hands them to ``cutlite worker``s. The CLI and the
HTTP API both go through ``JobService``; neither knows which executor is in use.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable

from engines.extras import require
from engines.planning.render_plan import hash_plan, source_identities
from engines.rendering.renderer import ProjectInput, Renderer
from engines.settings import executor as configured_executor

from .records import Job, JobState
from .repository import JobRepository, Limits, derive_job_id, output_options, public_job
from .runner import JobRunner

Progress = Callable[[float, dict[str, Any]], None]


class JobService:
    def __init__(self, renderer: Renderer, executor: str | None = None) -> None:
        self.renderer = renderer
        self.executor = executor or configured_executor()

    @property
    def on_workers(self) -> bool:
        return self.executor == "celery"

    @property
    def jobs(self) -> JobRepository:
        return JobRepository(self.renderer.library.registry.engine)

    def submit(self, project: ProjectInput, profile: str, *, options: dict[str, Any] | None = None,
               job_id: str | None = None, hw: str | None = None, base_dir: Path | None = None,
               output: str | None = None, need_slot: bool = False,
               limits: Limits | None = None) -> tuple[Job, bool]:
        """Plan (validating everything) and record a QUEUED job; the same submission finds the same job.

        ``need_slot``: the caller runs it here at once, so a running slot must be free too."""
        proj, folder = self.renderer.load(project)
        opts = dict(options or {})
        if opts.get("chunk_seconds") is not None:
            opts["chunk_seconds"] = str(opts["chunk_seconds"])
        plan = self.renderer.plan_project(proj, profile, hw, base_dir=base_dir or folder,
                                          chunk_seconds=opts.get("chunk_seconds"),
                                          slate_missing=bool(opts.get("slate_missing")))
        # identified by the portable plan hash: the same submission to API machines whose caches
        # differ is the same job
        portable = hash_plan(plan, source_identities(proj))
        identity = {"tenant": proj.tenant, "env": proj.env, "plan_hash": portable, "profile": profile,
                    "options": output_options(opts)}
        jid = job_id or derive_job_id(proj.tenant, proj.env, portable, profile, opts)
        params = {"project": proj.canonical(), "base_dir": str((base_dir or folder).resolve()), "options": opts,
                  "hw": hw, "output": str(Path(output).resolve()) if output else None,
                  # what a worker on another machine checks its own plan against, and plans with
                  "portable_plan_hash": portable, "hw_family": plan.meta["hardware"]["family"]}
        return self.jobs.submit(job_id=jid, tenant=proj.tenant, env=proj.env, profile=profile, params=params,
                                identity=identity, plan_hash=plan.plan_hash,
                                chunks=[(c.start_frame, c.end_frame) for c in plan.chunks],
                                limits=limits or Limits.from_env(),
                                need_slot=need_slot)

    def run(self, job_id: str, *, progress: Progress | None = None, cancel: threading.Event | None = None,
            workers: int | None = None, limits: Limits | None = None, rider: bool = False) -> Job:
        """Run a QUEUED job here, in this process's pool, to its end (``rider``: ``JobRunner.run``)."""
        return JobRunner(self.renderer, self.jobs).run(job_id, progress=progress, cancel=cancel, workers=workers,
                                                       limits=limits, rider=rider)

    def resume(self, job_id: str, **kw: Any) -> Job:
        """Re-render only what is not verified complete: FAILED, CANCELED or abandoned RUNNING jobs."""
        self.jobs.requeue(job_id)
        return self.run(job_id, **kw)

    def start(self, job_id: str, *, progress: Progress | None = None, cancel: threading.Event | None = None,
              workers: int | None = None, rider: bool = False) -> Job:
        """Take a submitted job to its end wherever the executor runs it: here (a local pool) or on
        the workers (followed from here). A job that ended or was abandoned is requeued first;
        a COMPLETED one is returned as it is."""
        job = self.jobs.get(job_id)
        if job.state == JobState.COMPLETED:
            return job
        self.requeue_if_needed(job)
        if self.on_workers:
            self.dispatch(job_id)
            return self.follow(job_id, cancel=cancel or threading.Event(), progress=progress)
        return self.run(job_id, progress=progress, cancel=cancel, workers=workers, rider=rider)

    def follow(self, job_id: str, *, cancel: threading.Event, progress: Progress | None = None) -> Job:
        """Follow a job on the workers until it ends: dispatch it when the limits let it start,
        hand it out again if its messages were lost; on ``cancel``, cancel it everywhere and wait
        (a minute at most) for the workers to stop."""
        cancelled_at = None
        while True:
            job = self.jobs.get(job_id)
            if job.state.ended:
                return job
            if job.state == JobState.RUNNING and self.jobs.is_stale(job):
                self.jobs.requeue(job_id, reset_attempts=False)
                job = self.jobs.get(job_id)
            if job.state == JobState.QUEUED:
                self.dispatch(job_id)
            if progress is not None:
                progress(job.progress or 0.0, {"stage": job.state.value})
            if cancel.is_set() and cancelled_at is None:
                cancelled_at = time.monotonic()
                self.cancel(job_id)
            if cancelled_at is not None and time.monotonic() - cancelled_at > 60:
                return job
            if cancelled_at is None:
                cancel.wait(0.3)
            else:
                time.sleep(0.3)

    def requeue_if_needed(self, job: Job) -> None:
        """A job that ended (FAILED, CANCELED) or whose owner is gone goes back to the queue."""
        if job.state not in (JobState.QUEUED, JobState.RUNNING) or self.jobs.is_stale(job):
            self.jobs.requeue(job.id)

    def cancel(self, job_id: str) -> Job:
        job = self.jobs.request_cancel(job_id)
        from .distributed import cancel_if_idle
        cancel_if_idle(self, job_id)  # a job on workers with nothing running ends at once
        return self.jobs.get(job_id) if job.state == JobState.RUNNING else job

    def dispatch(self, job_id: str, limits: Limits | None = None) -> bool:
        """Hand a QUEUED job to the Celery workers; False if it must wait (limits)."""
        require("celery", "celery", "CUTLITE_EXECUTOR=celery")
        from . import distributed
        from .celery_app import base_queue, enqueue

        return distributed.dispatch(self, job_id, enqueue, base_queue(), limits or Limits.from_env())

    def view(self, job_id: str, tenant: str | None = None, env: str | None = None) -> dict[str, Any]:
        job = self.jobs.get(job_id, tenant, env)
        view = public_job(job, self.jobs.chunks(job_id), stale=self.jobs.is_stale(job))
        registry = self.renderer.library.registry
        art = registry.artifact_by_key(job.tenant, job.env, job.output_key) if job.output_key else None
        view["output_artifact"] = art.model_dump() if art else None
        # what the result should be read with: damaged sources used, decode errors while rendering
        view["warnings"] = list(art.meta.get("warnings", [])) if art else []
        return view

    def output_path(self, job: Job) -> Path:
        """Where a COMPLETED job's output can be read on this machine."""
        return self.renderer.library.store(job.env).local_path(job.output_key or "")

    def background_executor(self, limits: Limits | None = None) -> Any:
        """The loop that starts QUEUED jobs in a serving process: a local pool or the workers."""
        from .executor import CeleryExecutor, LocalExecutor

        return (CeleryExecutor if self.on_workers else LocalExecutor)(self, limits)
