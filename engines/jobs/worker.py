"""``cutlite worker``: the Celery tasks (a chunk, the finalise step) and the worker that runs them.

    cutlite worker --name w1 --concurrency 1
    celery -A engines.jobs.worker worker -n w1@%h -c 1 -P threads -Q cutlite

Each task is a function of ids (``distributed.py``); the app and its settings are in ``celery_app.py``.
"""

from __future__ import annotations

from typing import Any

from engines.rendering.renderer import Renderer

from . import distributed
from .celery_app import app, base_queue, enqueue
from .service import JobService

_service: JobService | None = None


def service() -> JobService:
    """One job service per worker process (its database engine, store and hardware report)."""
    global _service
    if _service is None:
        _service = JobService(Renderer(), executor="celery")
    return _service


@app.task(name="cutlite.chunk", bind=True, max_retries=None, acks_late=True)
def chunk_task(self: Any, job_id: str, idx: int) -> str:
    try:
        return distributed.run_chunk(service(), job_id, idx, self.request.hostname, enqueue, base_queue())
    except distributed.RetryChunk as retry:
        raise self.retry(countdown=retry.delay) from None


@app.task(name="cutlite.finalise", bind=True, acks_late=True)
def finalise_task(self: Any, job_id: str) -> str:
    return distributed.run_finalise(service(), job_id, self.request.hostname)


def run_worker(name: str | None, concurrency: int) -> None:
    """``cutlite worker``: consume the base queue, and the GPU queue when a trial encode passed."""
    import socket

    from engines.ffmpeg.runner import detect_hardware

    queues = distributed.worker_queues(detect_hardware(service().renderer.runner), base_queue())
    hostname = f"{name or 'cutlite'}@{socket.gethostname()}"
    app.worker_main(["worker", "--hostname", hostname, "--concurrency", str(concurrency), "--pool", "threads",
                     "--queues", ",".join(queues), "--loglevel", "INFO", "--without-gossip", "--without-mingle"])
