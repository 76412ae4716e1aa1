"""outbox.document_id: the sale, return, receipt or adjustment id, unique, so two
documents of the same second cannot share a random suffix

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: rows written before this were checked by the pipeline alone.
    op.add_column("outbox", sa.Column("document_id", sa.String(length=40), nullable=True))
    op.create_index("uq_outbox_document", "outbox", ["document_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_outbox_document", table_name="outbox")
    op.drop_column("outbox", "document_id")
