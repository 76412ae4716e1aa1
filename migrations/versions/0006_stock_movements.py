"""returns, goods received and adjustments, stock columns for them, reorder-point alerts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The stream job looks documents (sale, return, receipt ids) up by this column.
    op.create_index("ix_processed_events_document", "processed_events", ["sale_id"])
    # Returns read a sale's events from the outbox by its key (the sale id).
    op.create_index("ix_outbox_key", "outbox", ["event_key"])
    op.create_table(
        "sale_returns",
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("return_id", sa.String(length=40), nullable=False),
        sa.Column("sale_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("line_no", sa.SmallInteger(), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("register_id", sa.String(length=40), nullable=False),
        sa.Column("cashier", sa.String(length=60), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("quantity_returned", sa.Integer(), nullable=False),
        sa.Column("price_each", sa.DECIMAL(precision=12, scale=2), nullable=False),
        sa.Column("refund", sa.DECIMAL(precision=14, scale=2), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("return_date", sa.Date(), nullable=False),
        sa.Column("occurred_at", mysql.DATETIME(fsp=3), nullable=False),
        sa.PrimaryKeyConstraint("line_id"),
    )
    op.create_index("ix_sale_returns_sale_id", "sale_returns", ["sale_id"], unique=False)
    op.create_table(
        "stock_alerts",
        sa.Column("alert_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reorder_point", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column(
            "raised_at",
            mysql.DATETIME(fsp=3),
            server_default=sa.text("CURRENT_TIMESTAMP(3)"),
            nullable=False,
        ),
        sa.Column("acknowledged_at", mysql.DATETIME(fsp=3), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=60), nullable=True),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    op.create_index(
        "ix_stock_alerts_open", "stock_alerts", ["acknowledged_at", "store_id"], unique=False
    )
    op.create_table(
        "stock_movements",
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=60), nullable=False),
        sa.Column("movement_date", sa.Date(), nullable=False),
        sa.Column("occurred_at", mysql.DATETIME(fsp=3), nullable=False),
        sa.PrimaryKeyConstraint("line_id"),
    )
    op.create_index(
        "ix_stock_movements_store_sku", "stock_movements", ["store_id", "sku"], unique=False
    )
    op.add_column(
        "stocks", sa.Column("total_received", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "stocks", sa.Column("total_returned", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "stocks", sa.Column("total_adjusted", sa.Integer(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    op.drop_index("ix_processed_events_document", table_name="processed_events")
    op.drop_index("ix_outbox_key", table_name="outbox")
    op.drop_column("stocks", "total_adjusted")
    op.drop_column("stocks", "total_returned")
    op.drop_column("stocks", "total_received")
    op.drop_index("ix_stock_movements_store_sku", table_name="stock_movements")
    op.drop_table("stock_movements")
    op.drop_index("ix_stock_alerts_open", table_name="stock_alerts")
    op.drop_table("stock_alerts")
    op.drop_index("ix_sale_returns_sale_id", table_name="sale_returns")
    op.drop_table("sale_returns")
