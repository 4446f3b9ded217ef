"""Render jobs: the state machine's rules and the repository, the only writer of the job tables.

The states and records are in ``records.py``.
Job ids are deterministic: a hash of tenant, env, plan hash, profile and the options that
change the output (chunking does; the worker count and where ``-o`` copies the result do not).
The same submission returns the same job; a client ``job_id`` reused with other parameters is
refused. Backpressure limits are counted in the same transaction that inserts the job.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, not_, or_, select, update
from sqlalchemy.engine import Engine

from engines.errors import BackpressureError, JobError, JobNotFound, ValidationError
from engines.media_v2.models import utc_now
from engines.model.scope import JOB_ID_RE, check_scope
from engines.owners import owner_is_dead

from . import tables as db
from .records import Chunk, ChunkState, Job, JobState

STALE_AFTER = 15.0  # seconds without a heartbeat before a RUNNING job counts as abandoned
WORKERS_STALE_AFTER = float(os.environ.get("CUTLITE_WORKERS_STALE_AFTER") or 300)  # seconds


TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.CANCELED}),
    JobState.RUNNING: frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELED, JobState.QUEUED}),
    JobState.FAILED: frozenset({JobState.QUEUED}),
    JobState.CANCELED: frozenset({JobState.QUEUED}),
    JobState.COMPLETED: frozenset(),
}


def check_transition(current: JobState, new: JobState) -> None:
    if new not in TRANSITIONS[current]:
        raise JobError(f"a {current.value} job cannot become {new.value}", stage="transition",
                       current=current.value, requested=new.value)


# The owner suffix of a batch row run inside the running slot its batch holds (``jobs.batch``): a
# batch in one process runs several rows at once as a job runs several chunks at once, under one
# slot of the limits below (its other rows are not counted again).
RIDER = ":rider"


@dataclass(frozen=True)
class Limits:
    max_running: int = 2
    max_running_per_tenant: int = 1
    max_queued: int = 100

    @classmethod
    def from_env(cls) -> "Limits":
        return cls(int(os.environ.get("CUTLITE_MAX_RUNNING_JOBS") or 2),
                   int(os.environ.get("CUTLITE_MAX_RUNNING_JOBS_PER_TENANT") or 1),
                   int(os.environ.get("CUTLITE_MAX_QUEUED_JOBS") or 100))


OUTPUT_OPTIONS = ("chunk_seconds", "slate_missing")  # options that change the output; others (workers, -o) do not


def output_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options a job's identity depends on (``slate_missing`` only when set, so the ids of
    jobs without it stay what they were)."""
    return {k: options.get(k) for k in OUTPUT_OPTIONS if k == "chunk_seconds" or options.get(k)}


def derive_job_id(tenant: str, env: str, plan_hash: str, profile: str, options: dict[str, Any]) -> str:
    doc = {"tenant": tenant, "env": env, "plan_hash": plan_hash, "profile": profile,
           "options": output_options(options)}
    return "job_" + hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:24]


def params_hash(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()


class JobRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ submission

    def submit(self, *, job_id: str, tenant: str, env: str, profile: str, params: dict[str, Any],
               identity: dict[str, Any], plan_hash: str, chunks: list[tuple[int, int]], limits: Limits,
               need_slot: bool) -> tuple[Job, bool]:
        """Insert a QUEUED job (or find the same one). (job, created).

        ``identity`` is what the output depends on; the same job id with another identity is
        refused. ``need_slot``: the caller will run it now, so a running slot must be free too.
        """
        check_scope(tenant, env)
        if not JOB_ID_RE.fullmatch(job_id):
            raise ValidationError([f"job_id: invalid job id {job_id!r}: must match {JOB_ID_RE.pattern}"],
                                  stage="submit")
        phash = params_hash(identity)
        with self.engine.begin() as conn:
            db.serialize_limits(conn)
            existing = conn.execute(select(db.jobs).where(db.jobs.c.id == job_id)).mappings().first()
            if existing is not None:
                if existing["params_hash"] != phash or (existing["tenant"], existing["env"]) != (tenant, env):
                    raise JobError(f"job id {job_id} is already used with other parameters", stage="submit",
                                   job_id=job_id,
                                   hint="leave job_id out to get the id derived from the parameters")
                return Job.from_row(existing), False
            counts = self._counts(conn, tenant)
            # a job that can start at once (a slot free after the jobs already waiting) never waits
            # in the queue: with max_queued 0 a job runs now or is refused
            starts_now = (counts["running"] + counts["queued"] < limits.max_running
                          and counts["tenant_running"] + counts["tenant_queued"] < limits.max_running_per_tenant)
            if not starts_now and counts["queued"] >= limits.max_queued:
                raise BackpressureError(f"{counts['queued']} jobs are queued (limit {limits.max_queued}) and "
                                        f"{counts['running']} running (limit {limits.max_running}, "
                                        f"{limits.max_running_per_tenant} per tenant)",
                                        stage="submit", retry_after=30, hint="retry later")
            if need_slot and (counts["running"] >= limits.max_running
                              or counts["tenant_running"] >= limits.max_running_per_tenant):
                raise BackpressureError(
                    f"{counts['running']} jobs running ({counts['tenant_running']} for {tenant}); limits "
                    f"{limits.max_running} and {limits.max_running_per_tenant} per tenant",
                    stage="submit", retry_after=10, hint="retry when a running job finishes")
            now = utc_now()
            conn.execute(insert(db.jobs).values(
                id=job_id, tenant=tenant, env=env, state=JobState.QUEUED.value, profile=profile, params=params,
                params_hash=phash, plan_hash=plan_hash, progress=0.0, cancel_requested=False, timings={},
                created_at=now, updated_at=now))
            for i, (a, b) in enumerate(chunks):
                conn.execute(insert(db.chunks).values(job_id=job_id, idx=i, start_frame=a, end_frame=b,
                                                      state=ChunkState.PENDING.value, attempts=0, reused=False))
            self._event(conn, job_id, "submitted", {"profile": profile, "chunks": len(chunks)})
            return self._row(conn, job_id), True

    def _counts(self, conn: Any, tenant: str) -> dict[str, int]:
        """QUEUED and RUNNING jobs, all tenants and ``tenant``'s; a batch's riders (``RIDER``) run in
        the slot their batch holds and are not counted again."""
        rows = conn.execute(select(db.jobs.c.state, db.jobs.c.tenant, func.count()).where(and_(
            db.jobs.c.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]),
            or_(db.jobs.c.state != JobState.RUNNING.value, db.jobs.c.owner.is_(None),
                not_(db.jobs.c.owner.like(f"%{RIDER}")))))
            .group_by(db.jobs.c.state, db.jobs.c.tenant)).all()
        out = {"queued": 0, "running": 0, "tenant_running": 0, "tenant_queued": 0}
        for state, t, n in rows:
            if state == JobState.QUEUED.value:
                out["queued"] += n
                if t == tenant:
                    out["tenant_queued"] += n
            else:
                out["running"] += n
                if t == tenant:
                    out["tenant_running"] += n
        return out

    # ------------------------------------------------------------------ state

    def claim(self, job_id: str, owner: str, limits: Limits | None = None) -> bool:
        """QUEUED -> RUNNING for ``owner`` (within the limits, when given); False if it is not QUEUED."""
        with self.engine.begin() as conn:
            db.serialize_limits(conn)
            job = conn.execute(select(db.jobs).where(db.jobs.c.id == job_id)).mappings().first()
            if job is None or job["state"] != JobState.QUEUED.value:
                return False
            if limits is not None:
                counts = self._counts(conn, job["tenant"])
                if counts["running"] >= limits.max_running or counts["tenant_running"] >= limits.max_running_per_tenant:
                    return False
            done = conn.execute(update(db.jobs).where(and_(db.jobs.c.id == job_id,
                                                           db.jobs.c.state == JobState.QUEUED.value))
                                .values(state=JobState.RUNNING.value, owner=owner, heartbeat_at=time.time(),
                                        cancel_requested=False, error=None, updated_at=utc_now()))
            if done.rowcount == 1:
                self._event(conn, job_id, "running", {"owner": owner})
            return done.rowcount == 1

    def transition(self, job_id: str, new: JobState, *, owner: str | None = None, **values: Any) -> Job:
        with self.engine.begin() as conn:
            job = conn.execute(select(db.jobs).where(db.jobs.c.id == job_id)).mappings().first()
            if job is None:
                raise JobNotFound(f"job {job_id} not found", stage="transition", job_id=job_id)
            check_transition(JobState(job["state"]), new)
            cond = [db.jobs.c.id == job_id, db.jobs.c.state == job["state"]]
            if owner is not None and job["state"] == JobState.RUNNING.value:
                cond.append(db.jobs.c.owner == owner)
            done = conn.execute(update(db.jobs).where(and_(*cond)).values(state=new.value, updated_at=utc_now(),
                                                                         **values))
            if done.rowcount != 1:
                raise JobError(f"job {job_id} changed under us", stage="transition", job_id=job_id)
            self._event(conn, job_id, new.value.lower(), {k: v for k, v in values.items() if k != "params"})
            return self._row(conn, job_id)

    def heartbeat(self, job_id: str, owner: str, progress: float | None = None) -> bool:
        """Refresh the lease (and the progress, when given); True when a cancel was requested."""
        with self.engine.begin() as conn:
            conn.execute(update(db.jobs).where(and_(db.jobs.c.id == job_id, db.jobs.c.owner == owner))
                         .values(heartbeat_at=time.time(), **({} if progress is None else {"progress": progress})))
            row = conn.execute(select(db.jobs.c.cancel_requested, db.jobs.c.state)
                               .where(db.jobs.c.id == job_id)).first()
        return bool(row and row[0])

    def request_cancel(self, job_id: str) -> Job:
        """Idempotent. A QUEUED (or abandoned) job is CANCELED here; a running one by its owner."""
        job = self.get(job_id)
        if job.state.ended:
            return job
        if job.state == JobState.QUEUED or self.is_stale(job):
            return self.transition(job_id, JobState.CANCELED, cancel_requested=True)
        with self.engine.begin() as conn:
            conn.execute(update(db.jobs).where(db.jobs.c.id == job_id).values(cancel_requested=True))
            self._event(conn, job_id, "cancel_requested", {})
        return self.get(job_id)

    def is_stale(self, job: Job) -> bool:
        """RUNNING with an owner that is gone: dead on this host, or silent for STALE_AFTER seconds."""
        if job.state != JobState.RUNNING:
            return False
        if job.owner and owner_is_dead(job.owner):
            return True
        # a job on workers waits in the broker's queue without a heartbeat while the workers are busy
        silent = WORKERS_STALE_AFTER if job.on_workers else STALE_AFTER
        return (time.time() - (job.heartbeat_at or 0)) > silent

    def requeue(self, job_id: str, *, reset_attempts: bool = True) -> Job:
        """For resume: FAILED, CANCELED or an abandoned RUNNING job goes back to QUEUED. An
        automatic requeue (``reset_attempts=False``) keeps the attempt counts: a poison chunk
        stays counted across hand-outs."""
        job = self.get(job_id)
        if job.state == JobState.RUNNING and not self.is_stale(job):
            raise JobError(f"job {job_id} is running (owner {job.owner})", stage="resume", job_id=job_id,
                           hint="cancel it first, or wait")
        if job.state == JobState.QUEUED:
            return job
        with self.engine.begin() as conn:
            conn.execute(update(db.chunks).where(and_(db.chunks.c.job_id == job_id, db.chunks.c.state != ChunkState.DONE.value))
                         .values(state=ChunkState.PENDING.value, error=None, **({"attempts": 0} if reset_attempts else {})))
        return self.transition(job_id, JobState.QUEUED, owner=None, cancel_requested=False, error=None)

    # ------------------------------------------------------------------ chunks

    def chunks(self, job_id: str) -> list[Chunk]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(db.chunks).where(db.chunks.c.job_id == job_id)
                                .order_by(db.chunks.c.idx)).mappings().all()
        return [Chunk.from_row(r) for r in rows]

    def start_chunk(self, job_id: str, idx: int, worker: str, content_hash: str) -> int | None:
        """One more attempt at a chunk, counted atomically (two copies of a task never count the
        same attempt); None when the chunk is already DONE."""
        with self.engine.begin() as conn:
            done = conn.execute(update(db.chunks).where(and_(db.chunks.c.job_id == job_id, db.chunks.c.idx == idx,
                                                             db.chunks.c.state != ChunkState.DONE.value))
                                .values(state=ChunkState.RUNNING.value, attempts=db.chunks.c.attempts + 1, worker=worker,
                                        content_hash=content_hash))
            if done.rowcount != 1:
                return None
            attempts = conn.execute(select(db.chunks.c.attempts).where(and_(
                db.chunks.c.job_id == job_id, db.chunks.c.idx == idx))).scalar_one()
            self._event(conn, job_id, "chunk_running", {"index": idx, "attempts": attempts, "worker": worker})
        return int(attempts)

    def update_chunk(self, job_id: str, idx: int, state: ChunkState | None = None, **values: Any) -> None:
        if state is not None:
            values["state"] = ChunkState(state).value
        with self.engine.begin() as conn:
            conn.execute(update(db.chunks).where(and_(db.chunks.c.job_id == job_id, db.chunks.c.idx == idx))
                         .values(**values))
            if values.get("state") in (ChunkState.DONE.value, ChunkState.FAILED.value):
                self._event(conn, job_id, f"chunk_{values['state'].lower()}",
                            {"index": idx, "reused": values.get("reused", False), "attempts": values.get("attempts"),
                             "worker": values.get("worker")})

    def cached_chunk(self, tenant: str, env: str, content_hash: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(db.chunk_cache).where(and_(
                db.chunk_cache.c.tenant == tenant, db.chunk_cache.c.env == env,
                db.chunk_cache.c.content_hash == content_hash))).mappings().first()
        return dict(row) if row else None

    def cache_chunk(self, tenant: str, env: str, content_hash: str, key: str, checksum: str, frames: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(db.chunk_cache.delete().where(and_(
                db.chunk_cache.c.tenant == tenant, db.chunk_cache.c.env == env,
                db.chunk_cache.c.content_hash == content_hash)))
            conn.execute(insert(db.chunk_cache).values(tenant=tenant, env=env, content_hash=content_hash, key=key,
                                                       checksum=checksum, frames=frames, created_at=utc_now()))

    # ------------------------------------------------------------------ reads

    def get(self, job_id: str, tenant: str | None = None, env: str | None = None) -> Job:
        with self.engine.connect() as conn:
            cond = [db.jobs.c.id == job_id]
            if tenant is not None:
                cond += [db.jobs.c.tenant == tenant, db.jobs.c.env == env]
            row = conn.execute(select(db.jobs).where(and_(*cond))).mappings().first()
        if row is None:
            raise JobNotFound(f"job {job_id} not found", stage="lookup", job_id=job_id)
        return Job.from_row(row)

    def list(self, state: JobState | str | None = None, tenant: str | None = None, env: str | None = None,
             limit: int = 100, oldest_first: bool = False) -> list[Job]:
        cond = []
        if state:
            cond.append(db.jobs.c.state == JobState(state).value)
        if tenant is not None:
            cond += [db.jobs.c.tenant == tenant, db.jobs.c.env == env]
        with self.engine.connect() as conn:
            order = db.jobs.c.created_at.asc() if oldest_first else db.jobs.c.created_at.desc()
            q = select(db.jobs).order_by(order, db.jobs.c.id).limit(limit)
            rows = conn.execute(q.where(and_(*cond)) if cond else q).mappings().all()
        return [Job.from_row(r) for r in rows]

    def events(self, job_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(db.events).where(db.events.c.job_id == job_id)
                                .order_by(db.events.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def note(self, job_id: str, kind: str, data: dict[str, Any]) -> None:
        """Record an event of the job (e.g. the decode errors a chunk met on some worker)."""
        with self.engine.begin() as conn:
            self._event(conn, job_id, kind, data)

    def _row(self, conn: Any, job_id: str) -> Job:
        return Job.from_row(conn.execute(select(db.jobs).where(db.jobs.c.id == job_id)).mappings().one())

    # ------------------------------------------------------------------ workers (Celery)

    def set_progress_from_chunks(self, job_id: str) -> None:
        """Progress as the share of the job's frames whose chunks are DONE (the join is the last 5 %)."""
        chunks = self.chunks(job_id)
        total = sum(c.frames for c in chunks) or 1
        done = sum(c.frames for c in chunks if c.state == ChunkState.DONE)
        with self.engine.begin() as conn:
            conn.execute(update(db.jobs).where(db.jobs.c.id == job_id).values(progress=0.95 * done / total))

    def claim_finalise(self, job_id: str, owner: str, claim: str) -> bool:
        """True for exactly one caller: the one whose update moves the owner from ``owner`` to
        ``claim`` while every chunk is DONE (the join must run once)."""
        with self.engine.begin() as conn:
            pending = conn.execute(select(db.chunks.c.idx).where(and_(
                db.chunks.c.job_id == job_id, db.chunks.c.state != ChunkState.DONE.value))).first()
            if pending is not None:
                return False
            done = conn.execute(update(db.jobs).where(and_(db.jobs.c.id == job_id, db.jobs.c.owner == owner,
                                                           db.jobs.c.state == JobState.RUNNING.value))
                                .values(owner=claim, updated_at=utc_now()))
            return done.rowcount == 1

    def take_over(self, job_id: str, owner: str, new_owner: str, event: str, data: dict[str, Any]) -> bool:
        """A RUNNING job's ownership handed from ``owner`` to ``new_owner`` by one conditional
        update; True for the one caller that got it."""
        with self.engine.begin() as conn:
            taken = conn.execute(update(db.jobs).where(and_(db.jobs.c.id == job_id, db.jobs.c.owner == owner,
                                                            db.jobs.c.state == JobState.RUNNING.value))
                                 .values(owner=new_owner, heartbeat_at=time.time(), updated_at=utc_now()))
            if taken.rowcount == 1:
                self._event(conn, job_id, event, data)
            return taken.rowcount == 1

    def _event(self, conn: Any, job_id: str, kind: str, data: dict[str, Any]) -> None:
        conn.execute(insert(db.events).values(job_id=job_id, at=utc_now(), kind=kind,
                                              data=json.loads(json.dumps(data, default=str))))


def public_job(job: Job, chunks: list[Chunk], *, stale: bool = False) -> dict[str, Any]:
    """The job as clients see it (no project document, no owner internals)."""
    return {
        "id": job.id, "tenant": job.tenant, "env": job.env, "state": job.state.value,
        "stale": stale, "profile": job.profile, "progress": round(float(job.progress or 0), 4),
        "frames": max((c.end_frame for c in chunks), default=0),
        "plan_hash": job.plan_hash, "error": job.error, "output_key": job.output_key,
        "timings": job.timings, "created_at": job.created_at, "updated_at": job.updated_at,
        "options": job.params.get("options", {}),
        "chunks": [{"index": c.idx, "start_frame": c.start_frame, "end_frame": c.end_frame,
                    "state": c.state.value, "attempts": c.attempts, "reused": c.reused,
                    "worker": c.worker, "seconds": c.seconds, "error": c.error} for c in chunks],
    }
