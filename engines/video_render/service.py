"""Public face (named by the spec): ``RenderService``, the door to planning, rendering and jobs.

``RenderService`` is the renderer (``engines.rendering.renderer``: plan a project, render a plan
in one pass) with the job service (``engines.jobs.service``: submit, run, cancel, resume, view)
attached. Code inside the engine imports those layers directly; this module is for callers.
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path
from typing import Any

from engines.errors import Cancelled, CutliteError, FFmpegError
from engines.ffmpeg.profiles import PROFILES, STILL_PROFILE, RenderProfile
from engines.jobs.records import Job, JobState
from engines.jobs.repository import JobRepository, Limits
from engines.jobs.service import JobService
from engines.model.project import load_project
from engines.planning.render_plan import RenderPlan
from engines.rendering.proxies import ProxyOutcome
from engines.rendering.proxies import ensure_proxies_for_project as _ensure_proxies
from engines.rendering.renderer import ProjectInput, Renderer, RenderResult
from engines.rendering.stills import Still, render_stills

__all__ = ["RenderService", "RenderResult", "FFmpegError", "RenderProfile", "PROFILES", "RenderPlan",
           "CutliteError", "Cancelled", "load_project", "ensure_proxies_for_project", "ProxyOutcome", "JobState",
           "Job", "Still", "STILL_PROFILE"]


class RenderService(Renderer):
    """A renderer whose jobs are run by ``JobService`` (``CUTLITE_EXECUTOR`` picks where)."""

    @cached_property
    def job_service(self) -> JobService:
        return JobService(self)

    @property
    def jobs(self) -> JobRepository:
        return self.job_service.jobs

    def submit_job(self, project: ProjectInput, profile: str, **kw: Any) -> tuple[Job, bool]:
        return self.job_service.submit(project, profile, **kw)

    def run_job(self, job_id: str, **kw: Any) -> Job:
        return self.job_service.run(job_id, **kw)

    def resume_job(self, job_id: str, **kw: Any) -> Job:
        return self.job_service.resume(job_id, **kw)

    def cancel_job(self, job_id: str) -> Job:
        return self.job_service.cancel(job_id)

    def dispatch_job(self, job_id: str, limits: Limits | None = None) -> bool:
        return self.job_service.dispatch(job_id, limits)

    def job_view(self, job_id: str, tenant: str | None = None, env: str | None = None) -> dict[str, Any]:
        return self.job_service.view(job_id, tenant, env)

    def stills(self, project: ProjectInput, times: list[Any], output: str | Path, *,
               profile: str = STILL_PROFILE, fmt: str | None = None, base_dir: Path | None = None,
               sources: str = "auto") -> list[Still]:
        """The composed frames at ``times`` (``engines.rendering.stills``)."""
        return render_stills(self, project, times, output, profile=profile, fmt=fmt, base_dir=base_dir,
                             sources=sources)


def ensure_proxies_for_project(project: ProjectInput, profile: str = "draft_360p", *,
                               service: Renderer | None = None, hw: str | None = None, start: Any = None,
                               end: Any = None, base_dir: Path | None = None, max_parallel: int = 2,
                               cancel: threading.Event | None = None) -> list[ProxyOutcome]:
    """Make sure every video asset the project uses (within ``[start, end)`` seconds, if given) has a
    proxy for ``profile``: reused by cache key, else generated. Returns an outcome per asset."""
    return _ensure_proxies(project, profile, service=service or Renderer(), hw=hw, start=start, end=end,
                           base_dir=base_dir, max_parallel=max_parallel, cancel=cancel)
