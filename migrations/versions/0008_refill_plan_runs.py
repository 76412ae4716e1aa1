"""refill plan runs: when each store's plan was computed and how well the method
forecast the last year (backtest beside the same-month-last-year baseline)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refill_plan_runs",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("months", sa.SmallInteger(), nullable=False),
        sa.Column("method", sa.String(length=120), nullable=False),
        sa.Column("history_from", sa.Date()),
        sa.Column("history_to", sa.Date()),
        sa.Column("backtest_months", sa.SmallInteger(), nullable=False),
        sa.Column("backtest_points", sa.Integer(), nullable=False),
        sa.Column("backtest_units", sa.Integer(), nullable=False),
        sa.Column("mae", sa.DECIMAL(12, 2)),
        sa.Column("wape", sa.DECIMAL(10, 4)),
        sa.Column("baseline_mae", sa.DECIMAL(12, 2)),
        sa.Column("baseline_wape", sa.DECIMAL(10, 4)),
        sa.Column("computed_at", mysql.DATETIME(fsp=3), nullable=False),
        sa.PrimaryKeyConstraint("store_id"),
    )


def downgrade() -> None:
    op.drop_table("refill_plan_runs")
