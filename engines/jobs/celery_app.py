"""The Celery app: chunk and finalise tasks on RabbitMQ (``pip install -e ".[celery]"``).

    cutlite worker --name w1 --concurrency 1
    celery -A engines.jobs.celery_app worker -n w1@%h -c 1 -P threads -Q cutlite

Settings that make the broker, not a process, hold the work: ``task_acks_late`` with
``task_reject_on_worker_lost`` (a task whose worker dies is redelivered), prefetch 1 (a worker
holds one task it is not running at most), JSON task messages carrying ids only, no result
backend (completion is recorded in the database; see ``distributed.py``). Tasks run in threads
(``-P threads``): ffmpeg is the heavy part, each in its own process group, and a killed worker's
ffmpeg is ended by the runner's reaper.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from celery import Celery

from . import distributed

if TYPE_CHECKING:
    from .service import JobService

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"


def broker_url() -> str:
    return os.environ.get("CUTLITE_BROKER_URL") or DEFAULT_BROKER


def base_queue() -> str:
    return os.environ.get("CUTLITE_QUEUE") or "cutlite"


app = Celery("cutlite", broker=broker_url())
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    task_default_queue=base_queue(),
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    # Redis brokers: an unacknowledged task returns only after this many seconds (RabbitMQ: at once)
    broker_transport_options={"visibility_timeout": int(os.environ.get("CUTLITE_VISIBILITY_TIMEOUT") or 3600)},
)

_service: JobService | None = None


def service() -> JobService:
    """One job service per worker process (its database engine, store and hardware report)."""
    global _service
    if _service is None:
        from engines.rendering.renderer import Renderer

        from .service import JobService
        _service = JobService(Renderer(), executor="celery")
    return _service


def enqueue(name: str, queue: str, args: tuple[Any, ...]) -> None:
    app.send_task(name, args=list(args), queue=queue)


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
