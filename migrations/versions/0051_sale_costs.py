"""Margins: sales.unit_cost (the cost price when sold) and, in the sales-by-period
tables, the cost and the revenue of the lines sold with a known cost

Revision ID: 0051
Revises: 0050
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None

PERIOD_TABLES = ("sales_daily", "sales_monthly", "sales_yearly", "product_monthly_sales")


def upgrade() -> None:
    # Sales recorded before carry no cost: their margin stays unknown.
    op.add_column("sales", sa.Column("unit_cost", sa.DECIMAL(12, 2), nullable=True))
    for table in PERIOD_TABLES:
        op.add_column(
            table, sa.Column("cost", sa.DECIMAL(16, 2), nullable=False, server_default="0")
        )
        op.add_column(
            table,
            sa.Column("costed_revenue", sa.DECIMAL(16, 2), nullable=False, server_default="0"),
        )


def downgrade() -> None:
    for table in PERIOD_TABLES:
        op.drop_column(table, "costed_revenue")
        op.drop_column(table, "cost")
    op.drop_column("sales", "unit_cost")
