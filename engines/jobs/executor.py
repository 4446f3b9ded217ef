"""The local executor: a pool in the serving process that runs QUEUED jobs within the limits.

Jobs are taken oldest first; stale RUNNING jobs (owner dead or silent) are requeued and resumed; a job is claimed QUEUED -> RUNNING in one transaction that also
checks ``CUTLITE_MAX_RUNNING_JOBS`` and the per-tenant limit, so several executors (several
API processes on one database) never run more than the limits allow.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from engines.errors import JobError

from .operations import JobOperations
from .records import JobState
from .repository import Limits

log = logging.getLogger("cutlite.executor")


class LocalExecutor:
    def __init__(self, service: JobOperations, limits: Limits | None = None, poll: float = 0.25) -> None:
        self.service = service
        self.limits = limits or Limits.from_env()
        self.poll = poll
        self._pool = ThreadPoolExecutor(max_workers=max(1, self.limits.max_running), thread_name_prefix="job")
        self._active: dict[str, Future[Any]] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-executor", daemon=True)

    def start(self) -> "LocalExecutor":
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            try:
                self._dispatch()
            except Exception:  # a database hiccup must not end the loop
                log.exception("job dispatch failed; retrying")

    def _dispatch(self) -> None:
        self._active = {k: f for k, f in self._active.items() if not f.done()}
        # a RUNNING job whose owner is gone is never left stuck: back to the queue, resumed below
        for job in self.service.jobs.list(state=JobState.RUNNING, limit=50):
            if job.id not in self._active and self.service.jobs.is_stale(job):
                try:
                    self.service.jobs.requeue(job.id)
                    log.warning("job %s was abandoned by %s; resuming it", job.id, job.owner)
                except JobError:
                    pass  # another executor took it first
        free = self.limits.max_running - len(self._active)
        if free <= 0:
            return
        for job in self.service.jobs.list(state=JobState.QUEUED, oldest_first=True, limit=free * 4):
            if job.id in self._active or free <= 0:
                continue
            self._active[job.id] = self._pool.submit(self._run, job.id)
            free -= 1

    def _run(self, job_id: str) -> None:
        try:
            self.service.run(job_id, limits=self.limits)
        except JobError:
            pass  # claimed elsewhere, or over a limit right now: it stays QUEUED for a later pass


class CeleryExecutor(LocalExecutor):
    """The same loop for ``CUTLITE_EXECUTOR=celery``: QUEUED jobs are handed to the workers within
    the limits (the claim counts them in one transaction, so several API processes share them),
    and a worker-owned job silent past its lease is requeued and handed out again (its verified
    chunks are kept)."""

    def _dispatch(self) -> None:
        jobs = self.service.jobs
        for job in jobs.list(state=JobState.RUNNING, limit=50):
            if job.on_workers and jobs.is_stale(job):
                try:
                    jobs.requeue(job.id, reset_attempts=False)
                    log.warning("job %s went silent on the workers; handing it out again", job.id)
                except JobError:
                    pass
        for job in jobs.list(state=JobState.QUEUED, oldest_first=True, limit=20):
            self.service.dispatch(job.id, self.limits)  # over its tenant's limit: it waits, others go
