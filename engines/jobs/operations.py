"""What the executors and the Celery tasks need of the job service, as a protocol.

``JobService`` (``service.py``) chooses an executor and so imports them; they in turn work through
this protocol, never the service module, so the package's imports run one way.
"""

from __future__ import annotations

from typing import Protocol

from engines.rendering.renderer import Renderer

from .records import Job
from .repository import JobRepository, Limits


class JobOperations(Protocol):
    renderer: Renderer

    @property
    def jobs(self) -> JobRepository: ...

    def run(self, job_id: str, *, limits: Limits | None = None) -> Job: ...

    def dispatch(self, job_id: str, limits: Limits | None = None) -> bool: ...
