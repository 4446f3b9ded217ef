"""render jobs: jobs, their chunks and events, and the content-addressed chunk cache.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "render_jobs",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("env", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("profile", sa.String(32), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("plan_hash", sa.String(64), nullable=False),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("owner", sa.String(120), nullable=True),
        sa.Column("heartbeat_at", sa.Float, nullable=True),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("error", sa.JSON, nullable=True),
        sa.Column("output_key", sa.String(512), nullable=True),
        sa.Column("timings", sa.JSON, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_render_jobs_state", "render_jobs", ["state", "tenant"])
    op.create_table(
        "render_chunks",
        sa.Column("job_id", sa.String(80), sa.ForeignKey("render_jobs.id"), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("start_frame", sa.Integer, nullable=False),
        sa.Column("end_frame", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("key", sa.String(512), nullable=True),
        sa.Column("checksum", sa.String(64), nullable=True),
        sa.Column("reused", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("seconds", sa.Float, nullable=True),
        sa.Column("worker", sa.String(120), nullable=True),
        sa.Column("error", sa.JSON, nullable=True),
    )
    op.create_table(
        "job_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(80), nullable=False, index=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_table(
        "chunk_cache",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("env", sa.String(8), primary_key=True),
        sa.Column("content_hash", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("frames", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("chunk_cache")
    op.drop_table("job_events")
    op.drop_table("render_chunks")
    op.drop_index("ix_render_jobs_state", "render_jobs")
    op.drop_table("render_jobs")
