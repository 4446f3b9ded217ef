"""access: API keys (hashes only), the audit log of mutating requests, webhook deliveries.

Revision ID: 0004_access
Revises: 0003_asset_meta
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_access"
down_revision = "0003_asset_meta"


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("env", sa.String(8), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("last_used_at", sa.String(40), nullable=True),
        sa.Column("revoked_at", sa.String(40), nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("tenant", sa.String(63), nullable=True),
        sa.Column("env", sa.String(8), nullable=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("object", sa.String(200), nullable=True),
        sa.Column("status", sa.Integer, nullable=False),
    )
    op.create_index("ix_audit_log_tenant", "audit_log", ["tenant", "env", "id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("job_id", sa.String(80), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("env", sa.String(8), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.JSON, nullable=False),
        sa.Column("next_at", sa.Float, nullable=False),
        sa.Column("lease_until", sa.Float, nullable=False, server_default="0"),
        sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_webhook_deliveries_done", "webhook_deliveries", ["done", "next_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_done", "webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_audit_log_tenant", "audit_log")
    op.drop_table("audit_log")
    op.drop_table("api_keys")
