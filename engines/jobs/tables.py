"""The job tables (SQLAlchemy Core): jobs, their chunks, events and the chunk cache.

Only the job layer writes them. The schema itself comes from the migrations (``engines/migrations``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Integer, String, Table, text

from engines.database import metadata

jobs = Table(
    "render_jobs", metadata,
    Column("id", String(80), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("env", String(8), nullable=False),
    Column("state", String(16), nullable=False),
    Column("profile", String(32), nullable=False),
    Column("params", JSON, nullable=False),
    Column("params_hash", String(64), nullable=False),
    Column("plan_hash", String(64), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("owner", String(120), nullable=True),
    Column("heartbeat_at", Float, nullable=True),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("error", JSON, nullable=True),
    Column("output_key", String(512), nullable=True),
    Column("timings", JSON, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

chunks = Table(
    "render_chunks", metadata,
    Column("job_id", String(80), ForeignKey("render_jobs.id"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("start_frame", Integer, nullable=False),
    Column("end_frame", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("content_hash", String(64), nullable=True),
    Column("key", String(512), nullable=True),
    Column("checksum", String(64), nullable=True),
    Column("reused", Boolean, nullable=False, default=False),
    Column("seconds", Float, nullable=True),
    Column("worker", String(120), nullable=True),
    Column("error", JSON, nullable=True),
)

events = Table(
    "job_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(80), nullable=False),
    Column("at", String(40), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("data", JSON, nullable=False),
)

chunk_cache = Table(
    "chunk_cache", metadata,
    Column("tenant", String(63), primary_key=True),
    Column("env", String(8), primary_key=True),
    Column("content_hash", String(64), primary_key=True),
    Column("key", String(512), nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("frames", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
)


JOB_LIMITS_LOCK = 727275


def serialize_limits(conn: Any) -> None:
    """Make this transaction the only one counting and changing job states right now.

    SQLite transactions here already begin IMMEDIATE (one writer at a time); on Postgres, READ
    COMMITTED would let two API processes both count "one slot free" and both take it, so the
    transaction takes an advisory lock held until it ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({JOB_LIMITS_LOCK})"))
