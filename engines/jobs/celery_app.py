"""The Celery app and how jobs send it work (``pip install -e ".[celery]"``); the tasks are in ``worker.py``.

    cutlite worker --name w1 --concurrency 1
    celery -A engines.jobs.worker worker -n w1@%h -c 1 -P threads -Q cutlite

Settings that make the broker, not a process, hold the work: ``task_acks_late`` with
``task_reject_on_worker_lost`` (a task whose worker dies is redelivered), prefetch 1 (a worker
holds one task it is not running at most), JSON task messages carrying ids only, no result
backend (completion is recorded in the database; see ``distributed.py``). Tasks run in threads
(``-P threads``): ffmpeg is the heavy part, each in its own process group, and a killed worker's
ffmpeg is ended by the runner's reaper.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

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


def enqueue(name: str, queue: str, args: tuple[Any, ...]) -> None:
    app.send_task(name, args=list(args), queue=queue)
