"""sale_payments: each sale's tenders and each return's refund, as the stream job books
them, for reports by payment method

Revision ID: 0030
Revises: 0021
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0030"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sale_payments",
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=40), nullable=False),
        sa.Column("sale_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("register_id", sa.String(length=40), nullable=False),
        sa.Column("cashier", sa.String(length=60), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.DECIMAL(precision=14, scale=2), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("payment_date", sa.Date(), nullable=False),
        sa.Column("occurred_at", mysql.DATETIME(fsp=3), nullable=False),
        sa.PrimaryKeyConstraint("payment_id"),
    )
    op.create_index("ix_sale_payments_sale_id", "sale_payments", ["sale_id"])
    op.create_index("ix_sale_payments_store_date", "sale_payments", ["store_id", "payment_date"])
    op.create_index(
        "ix_sale_payments_register_time", "sale_payments", ["register_id", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_table("sale_payments")
