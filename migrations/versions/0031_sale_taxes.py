"""sale_taxes: the commercial tax of each taxed sale and return, as the stream job books it

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
    op.create_table(
        "sale_taxes",
        sa.Column("document_id", sa.String(length=40), nullable=False),
        sa.Column("sale_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("register_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("rate", sa.DECIMAL(precision=5, scale=2), nullable=False),
        sa.Column("base", sa.DECIMAL(precision=14, scale=2), nullable=False),
        sa.Column("tax", sa.DECIMAL(precision=14, scale=2), nullable=False),
        sa.Column("net", sa.DECIMAL(precision=14, scale=2), nullable=False),
        sa.Column("tax_date", sa.Date(), nullable=False),
        sa.Column("occurred_at", mysql.DATETIME(fsp=3), nullable=False),
        sa.PrimaryKeyConstraint("document_id"),
    )
    op.create_index("ix_sale_taxes_store_date", "sale_taxes", ["store_id", "tax_date"])
    op.create_index("ix_sale_taxes_register_time", "sale_taxes", ["register_id", "occurred_at"])


def downgrade() -> None:
    op.drop_table("sale_taxes")
