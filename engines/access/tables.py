"""The access tables (SQLAlchemy Core): API keys, the audit log, webhook deliveries.

The schema comes from migration 0004; a key's secret is never stored, only its SHA-256.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, Integer, String, Table

from engines.database import metadata

api_keys = Table(
    "api_keys", metadata,
    Column("id", String(32), primary_key=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("tenant", String(63), nullable=False),
    Column("env", String(8), nullable=False),
    Column("role", String(8), nullable=False),
    Column("name", String(120), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("last_used_at", String(40), nullable=True),
    Column("revoked_at", String(40), nullable=True),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("key_id", String(32), nullable=True),
    Column("tenant", String(63), nullable=True),
    Column("env", String(8), nullable=True),
    Column("method", String(8), nullable=False),
    Column("route", String(200), nullable=False),
    Column("object", String(200), nullable=True),
    Column("status", Integer, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("job_id", String(80), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("env", String(8), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("state", String(16), nullable=False),          # pending, delivered, failed, refused
    Column("attempts", JSON, nullable=False),             # [{at, status, error, ms}, ...]
    Column("next_at", Float, nullable=False),             # unix time of the next attempt
    Column("lease_until", Float, nullable=False, server_default="0"),
    Column("done", Boolean, nullable=False, server_default="0"),
)
