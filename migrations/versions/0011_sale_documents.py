"""sale_documents: the read model of sales and returns, written by the stream job

Receipts, the returns page and GET /api/v1/sales/{id} read each sale as recorded from
here instead of the outbox's JSON, so the relay can prune published outbox rows after a
retention window. Sales applied before this revision have no document until `posctl
rebuild` recomputes the table from the raw events; until then their stored lines answer.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sale_documents",
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("document_id", sa.String(length=40), nullable=False),
        sa.Column("sale_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("occurred_at", mysql.DATETIME(fsp=3), nullable=False),
        sa.Column("document", mysql.MEDIUMTEXT(), nullable=False),
        sa.PrimaryKeyConstraint("event_type", "document_id"),
    )
    op.create_index("ix_sale_documents_sale_id", "sale_documents", ["sale_id"])
    op.create_index("ix_sale_documents_store_date", "sale_documents", ["store_id", "local_date"])


def downgrade() -> None:
    op.drop_table("sale_documents")
