"""sale_totals: each sale's and return's totals, discount and commercial tax, as the
stream job books them (the Z report and the tax report read it)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    money = sa.DECIMAL(precision=14, scale=2)
    op.create_table(
        "sale_totals",
        sa.Column("document_id", sa.String(length=40), nullable=False),
        sa.Column("sale_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("register_id", sa.String(length=40), nullable=False),
        sa.Column("cashier", sa.String(length=60), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("discount", money, nullable=False),
        sa.Column("base", money, nullable=False),
        sa.Column("tax_mode", sa.String(length=10), nullable=False),
        sa.Column("tax_rate", sa.DECIMAL(precision=5, scale=2), nullable=False),
        sa.Column("tax", money, nullable=False),
        sa.Column("net", money, nullable=False),
        sa.Column("total", money, nullable=False),
        sa.Column("doc_date", sa.Date(), nullable=False),
        sa.Column("occurred_at", mysql.DATETIME(fsp=3), nullable=False),
        sa.PrimaryKeyConstraint("document_id"),
    )
    op.create_index("ix_sale_totals_store_date", "sale_totals", ["store_id", "doc_date"])
    op.create_index("ix_sale_totals_register_time", "sale_totals", ["register_id", "occurred_at"])


def downgrade() -> None:
    op.drop_table("sale_totals")
