"""media assets: a meta document (what was learnt about the source after registration, e.g. the
damage a full decode found).

Revision ID: 0003_asset_meta
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_asset_meta"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("media_assets") as batch:
        batch.add_column(sa.Column("meta", sa.JSON, nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("media_assets") as batch:
        batch.drop_column("meta")
