"""catalog, stocks, sales lines and the stream job's ledgers

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("sale_id", sa.String(length=40), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column(
            "processed_at",
            mysql.DATETIME(fsp=3),
            server_default=sa.text("CURRENT_TIMESTAMP(3)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "products",
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_my", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("size", sa.String(length=20), nullable=True),
        sa.Column("colour", sa.String(length=40), nullable=True),
        sa.Column("unit_price", sa.DECIMAL(precision=12, scale=2), nullable=False),
        sa.Column("reorder_point", sa.Integer(), server_default="0", nullable=False),
        sa.Column("opening_stock", sa.Integer(), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            mysql.DATETIME(fsp=3),
            server_default=sa.text("CURRENT_TIMESTAMP(3)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            mysql.DATETIME(fsp=3),
            server_default=sa.text("CURRENT_TIMESTAMP(3)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "sales",
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("sale_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("line_no", sa.SmallInteger(), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("register_id", sa.String(length=40), nullable=False),
        sa.Column("cashier", sa.String(length=60), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("quantity_sold", sa.Integer(), nullable=False),
        sa.Column("price_each", sa.DECIMAL(precision=12, scale=2), nullable=False),
        sa.Column("sales", sa.DECIMAL(precision=14, scale=2), nullable=False),
        sa.Column("sale_date", sa.Date(), nullable=False),
        sa.Column("sale_time", sa.Time(), nullable=False),
        sa.Column("day", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("occurred_at", mysql.DATETIME(fsp=3), nullable=False),
        sa.Column(
            "processed_at",
            mysql.DATETIME(fsp=3),
            server_default=sa.text("CURRENT_TIMESTAMP(3)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("line_id"),
    )
    op.create_index("ix_sales_sale_id", "sales", ["sale_id"], unique=False)
    op.create_index("ix_sales_sku", "sales", ["sku"], unique=False)
    op.create_index("ix_sales_store_date", "sales", ["store_id", "sale_date"], unique=False)
    op.create_index("ix_sales_year_month", "sales", ["year", "month"], unique=False)
    op.create_table(
        "stream_batches",
        sa.Column("query_name", sa.String(length=60), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("events_applied", sa.Integer(), nullable=False),
        sa.Column("events_duplicate", sa.Integer(), nullable=False),
        sa.Column("events_rejected", sa.Integer(), nullable=False),
        sa.Column("lines_applied", sa.Integer(), nullable=False),
        sa.Column(
            "committed_at",
            mysql.DATETIME(fsp=3),
            server_default=sa.text("CURRENT_TIMESTAMP(3)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("query_name", "batch_id"),
    )
    op.create_table(
        "stocks",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("stock_quantity", sa.Integer(), nullable=False),
        sa.Column("total_sold", sa.Integer(), server_default="0", nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            mysql.DATETIME(fsp=3),
            server_default=sa.text("CURRENT_TIMESTAMP(3)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["products.sku"],
        ),
        sa.PrimaryKeyConstraint("store_id", "sku"),
    )


def downgrade() -> None:
    op.drop_table("stocks")
    op.drop_table("stream_batches")
    op.drop_index("ix_sales_year_month", table_name="sales")
    op.drop_index("ix_sales_store_date", table_name="sales")
    op.drop_index("ix_sales_sku", table_name="sales")
    op.drop_index("ix_sales_sale_id", table_name="sales")
    op.drop_table("sales")
    op.drop_table("products")
    op.drop_table("processed_events")
