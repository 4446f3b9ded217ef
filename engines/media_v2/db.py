"""The media_v2 tables (SQLAlchemy Core): assets, artifacts and leases.

The schema itself comes from the migrations (``engines/migrations``); ``engines.database``
owns the engine.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, ForeignKey, Index, String, Table, UniqueConstraint

from engines.database import metadata

assets = Table(
    "media_assets", metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("env", String(8), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("original_name", String(255), nullable=False),
    Column("source_key", String(512), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("probe", JSON, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("meta", JSON, nullable=False, server_default="{}"),
    UniqueConstraint("tenant", "env", "content_hash", name="uq_media_assets_content"),
)

artifacts = Table(
    "media_artifacts", metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("env", String(8), nullable=False),
    Column("asset_id", String(32), ForeignKey("media_assets.id"), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("profile", String(32), nullable=True),
    Column("key", String(512), nullable=False, unique=True),
    Column("size", BigInteger, nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("meta", JSON, nullable=False),
    Column("created_at", String(40), nullable=False),
    Index("ix_media_artifacts_asset", "tenant", "env", "asset_id", "kind"),
)

leases = Table(
    "leases", metadata,
    Column("name", String(255), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
)
