"""refill plan: forecast units and suggested orders per store, month and product

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refill_plan",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("plan_month", sa.Date(), nullable=False),  # first day of the month
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("forecast_units", sa.Integer(), nullable=False),
        sa.Column("expected_start_stock", sa.Integer(), nullable=False),
        sa.Column("safety_stock", sa.Integer(), nullable=False),
        sa.Column("suggested_order", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("computed_at", mysql.DATETIME(fsp=3), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "plan_month", "sku"),
    )


def downgrade() -> None:
    op.drop_table("refill_plan")
