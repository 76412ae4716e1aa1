"""sales by day, month, year and product-month

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_monthly_sales",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("revenue", sa.DECIMAL(precision=16, scale=2), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("sales_count", sa.Integer(), nullable=False),
        sa.Column("lines_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "year", "month", "sku"),
    )
    op.create_index("ix_product_monthly_sku", "product_monthly_sales", ["sku"], unique=False)
    op.create_table(
        "sales_daily",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("sale_date", sa.Date(), nullable=False),
        sa.Column("revenue", sa.DECIMAL(precision=16, scale=2), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("sales_count", sa.Integer(), nullable=False),
        sa.Column("lines_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "sale_date"),
    )
    op.create_table(
        "sales_monthly",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("revenue", sa.DECIMAL(precision=16, scale=2), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("sales_count", sa.Integer(), nullable=False),
        sa.Column("lines_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "year", "month"),
    )
    op.create_table(
        "sales_yearly",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("revenue", sa.DECIMAL(precision=16, scale=2), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("sales_count", sa.Integer(), nullable=False),
        sa.Column("lines_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "year"),
    )
    # Sales recorded before these tables existed: add them up once from the lines.
    measures = "SUM(sales), SUM(quantity_sold), COUNT(DISTINCT sale_id), COUNT(*)"
    for table, keys in BACKFILL:
        op.execute(
            f"INSERT INTO {table} ({keys}, revenue, units, sales_count, lines_count) "
            f"SELECT {keys}, {measures} FROM sales GROUP BY {keys}"
        )
    op.execute(
        "INSERT INTO product_monthly_sales (store_id, year, month, sku, product, revenue, "
        f"units, sales_count, lines_count) SELECT store_id, year, month, sku, MAX(product), "
        f"{measures} FROM sales GROUP BY store_id, year, month, sku"
    )


BACKFILL = [
    ("sales_daily", "store_id, sale_date"),
    ("sales_monthly", "store_id, year, month"),
    ("sales_yearly", "store_id, year"),
]


def downgrade() -> None:
    op.drop_table("sales_yearly")
    op.drop_table("sales_monthly")
    op.drop_table("sales_daily")
    op.drop_index("ix_product_monthly_sku", table_name="product_monthly_sales")
    op.drop_table("product_monthly_sales")
