"""Render jobs spread over workers: chunks and the join as functions of ids.

A job dispatched this way is owned by ``CELERY_OWNER`` instead of one process. Its chunks are
tasks ``(job_id, chunk_index)``; each reads the job from the database and its inputs from the
object store, renders and verifies its chunk, stores it, and records checksum, timing, attempts
and the worker's name. Everything that must happen once is decided in the database, never by
the broker or a result backend:

- attempts are counted in the chunk's row *before* each try, so a poison chunk (one that kills
  its worker, redelivered again and again) fails the job after ``max_attempts``;
- a redelivered chunk whose verified output exists is a no-op;
- the chunk that completes the set claims the finalise step with one conditional update
  (owner ``celery`` -> ``celery:finalise``), so the join runs once;
- cancel is the job's ``cancel_requested`` flag: a queued chunk that sees it does nothing, a
  running one ends its ffmpeg (the heartbeat sees the flag), and the job becomes CANCELED.

The transport (Celery on RabbitMQ) is in ``celery_app.py``; this module does not import Celery.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any, Callable

from engines.errors import BrokerUnavailable, Cancelled, ChunkFailed, CutliteError, JobError

from .operations import JobOperations
from .records import ChunkState, JobState
from .repository import JobRepository, Limits
from .runner import JobRunner, RetryChunk, error_record, max_attempts, start_heartbeat

CELERY_OWNER = "celery"
FINALISE_OWNER = "celery:finalise"
log = logging.getLogger("cutlite.distributed")

Enqueue = Callable[[str, str, tuple[Any, ...]], None]  # (task name, queue, args)


def chunk_queue(job_family: str, base: str) -> str:
    """Chunks of a job whose plan chose a hardware encoder go to the GPU queue."""
    return f"{base}.gpu" if job_family != "cpu" else base


def worker_queues(report: Any, base: str) -> list[str]:
    """A worker whose hardware trial encode passed also consumes the GPU queue."""
    usable = any(p.usable for p in getattr(report, "probes", ()))
    return [base, f"{base}.gpu"] if usable else [base]


def dispatch(service: JobOperations, job_id: str, enqueue: Enqueue, base_queue: str, limits: Limits | None = None) -> bool:
    """QUEUED -> RUNNING (owned by the workers, within the limits) and every unfinished chunk
    enqueued; when every chunk is already done, the finalise step instead. False if not claimed."""
    repo = service.jobs
    if not repo.claim(job_id, CELERY_OWNER, limits):
        return False
    job = repo.get(job_id)
    try:
        ctx = JobRunner(service.renderer, repo).context(job)
    except CutliteError as exc:
        _fail(repo, job_id, error_record(exc), CELERY_OWNER)
        return True
    queue = chunk_queue(ctx.decision.family, base_queue)
    pending = [c.idx for c in repo.chunks(job_id)
               if not (c.state == ChunkState.DONE and c.key and ctx.store.exists(c.key))]
    try:
        for idx in pending:
            enqueue("cutlite.chunk", queue, (job_id, idx))
        if not pending and repo.claim_finalise(job_id, CELERY_OWNER, FINALISE_OWNER):
            enqueue("cutlite.finalise", queue, (job_id,))
    except Exception as exc:  # the broker refused: back to QUEUED, to be handed out again
        repo.transition(job_id, JobState.QUEUED, owner=repo.get(job_id).owner)
        raise BrokerUnavailable(f"the broker refused the job's chunks: {exc}", stage="dispatch",
                                job_id=job_id, retryable=True,
                                hint="check RabbitMQ and CUTLITE_BROKER_URL; the job stays QUEUED") from None
    return True


def run_chunk(service: JobOperations, job_id: str, idx: int, worker: str, enqueue: Enqueue, base_queue: str) -> str:
    """One attempt at one chunk; the outcome as a word (for logs and tests). Nothing but
    ``RetryChunk`` leaves: every other failure ends the job FAILED with its error."""
    repo = service.jobs
    job = repo.get(job_id)
    if job.state != JobState.RUNNING or job.owner != CELERY_OWNER:
        return "skipped"  # cancelled, failed, finished or finalising meanwhile
    if job.cancel_requested:
        _cancel(service, job_id)
        return "cancelled"
    cancel = threading.Event()
    stop = start_heartbeat(repo, job_id, CELERY_OWNER, cancel)
    try:
        runner = JobRunner(service.renderer, repo)
        ctx = runner.context(job)
        queue = chunk_queue(ctx.decision.family, base_queue)
        chunk = next(c for c in repo.chunks(job_id) if c.idx == idx)
        if chunk.state == ChunkState.DONE and chunk.key and ctx.store.exists(chunk.key):
            _maybe_finalise(repo, job_id, enqueue, queue)
            return "already-done"
        if chunk.state == ChunkState.RUNNING and chunk.attempts >= max_attempts(ctx.options):
            # redelivered after its worker died on the last allowed attempt: a poison chunk
            err = error_record(ChunkFailed(f"chunk {idx} ended its worker {chunk.attempts} times", stage="chunk",
                                           chunk_index=idx, worker=chunk.worker,
                                           hint="an input may crash the decoder: check it with `cutlite probe`"))
            repo.update_chunk(job_id, idx, state=ChunkState.FAILED, error=err)
            _fail(repo, job_id, err, CELERY_OWNER)
            return "poison"
        runner.render_chunk(ctx, chunk, cancel, lambda *_a, **_k: None, worker, single_attempt=True)
    except RetryChunk:
        raise
    except Cancelled:
        _cancel(service, job_id)
        return "cancelled"
    except CutliteError as exc:
        _fail(repo, job_id, error_record(exc), CELERY_OWNER)
        return "failed"
    except Exception as exc:  # an engine bug must still end the job, never leave it RUNNING
        log.exception("chunk %s of %s failed", idx, job_id)
        _fail(repo, job_id, error_record(exc, "chunk"), CELERY_OWNER)
        return "failed"
    finally:
        stop()
    _maybe_finalise(repo, job_id, enqueue, queue)
    return "done"


def run_finalise(service: JobOperations, job_id: str, worker: str) -> str:
    """Audio, join, output artifact, COMPLETED: once, by the task that takes the finalise claim
    over (a second copy of the message finds it taken)."""
    repo = service.jobs
    mine = f"{FINALISE_OWNER}:{uuid.uuid4().hex[:12]}"
    if not repo.take_over(job_id, FINALISE_OWNER, mine, "finalise_started", {"worker": worker}):
        return "skipped"
    runner = JobRunner(service.renderer, repo)
    cancel = threading.Event()
    stop = start_heartbeat(repo, job_id, mine, cancel)
    try:
        ctx = runner.context(repo.get(job_id))
        timings = {"audio": runner.render_audio(ctx, cancel)}
        result = runner.finalise(ctx, cancel, timings)
        repo.transition(job_id, JobState.COMPLETED, owner=mine, progress=1.0, output_key=result["key"],
                        timings=dict(result["timings"], finalised_by=worker))
        return "completed"
    except Cancelled:
        _cancel(service, job_id, owner=mine)
        return "cancelled"
    except CutliteError as exc:
        _fail(repo, job_id, error_record(exc), mine)
        return "failed"
    except Exception as exc:  # never leave it RUNNING
        log.exception("finalise of %s failed", job_id)
        _fail(repo, job_id, error_record(exc, "finalise"), mine)
        return "failed"
    finally:
        stop()


def cancel_if_idle(service: JobOperations, job_id: str) -> None:
    """After a cancel request: a worker-owned job with no chunk running is CANCELED at once
    (its queued chunks will see the flag and do nothing)."""
    job = service.jobs.get(job_id)
    if job.state == JobState.RUNNING and job.owner == CELERY_OWNER \
            and not any(c.state == ChunkState.RUNNING for c in service.jobs.chunks(job_id)):
        _cancel(service, job_id, owner=job.owner)
    # a finalising job is cancelled by its finalise task (its heartbeat sees the flag)


# ---------------------------------------------------------------- helpers

def _maybe_finalise(repo: JobRepository, job_id: str, enqueue: Enqueue, queue: str) -> None:
    repo.set_progress_from_chunks(job_id)
    if repo.claim_finalise(job_id, CELERY_OWNER, FINALISE_OWNER):
        enqueue("cutlite.finalise", queue, (job_id,))


def _fail(repo: JobRepository, job_id: str, error: dict[str, Any], owner: str) -> None:
    try:
        repo.transition(job_id, JobState.FAILED, owner=owner, error=error)
    except JobError:
        pass  # already ended by another worker


def _cancel(service: JobOperations, job_id: str, owner: str = CELERY_OWNER) -> None:
    try:
        service.jobs.transition(job_id, JobState.CANCELED, owner=owner)
    except JobError:
        return  # already ended
    JobRunner(service.renderer, service.jobs).cleanup(job_id, partial=True)
