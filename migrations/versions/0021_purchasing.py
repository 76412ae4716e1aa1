"""suppliers and purchase orders (draft -> ordered -> partly received -> received, or
cancelled), with their lines and what has been received of each

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def _now() -> sa.Column:
    return sa.Column(
        "created_at",
        mysql.DATETIME(fsp=3),
        server_default=sa.text("CURRENT_TIMESTAMP(3)"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "suppliers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("viber", sa.String(length=40), nullable=True),
        sa.Column("lead_time_days", sa.Integer(), server_default="7", nullable=False),
        sa.Column("notes", sa.String(length=500), nullable=True),
        _now(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="ux_suppliers_name"),
    )
    op.create_table(
        "purchase_orders",
        sa.Column("po_id", sa.String(length=40), nullable=False),
        sa.Column("supplier_id", sa.Integer(), sa.ForeignKey("suppliers.id"), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        _now(),
        sa.Column("ordered_at", mysql.DATETIME(fsp=3), nullable=True),
        sa.Column("expected_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("po_id"),
    )
    op.create_index("ix_purchase_orders_store_status", "purchase_orders", ["store_id", "status"])
    op.create_table(
        "purchase_order_lines",
        sa.Column(
            "po_id", sa.String(length=40), sa.ForeignKey("purchase_orders.po_id"), nullable=False
        ),
        sa.Column("line_no", sa.SmallInteger(), nullable=False),
        sa.Column("sku", sa.String(length=40), sa.ForeignKey("products.sku"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.DECIMAL(12, 2), nullable=False),
        sa.Column("received", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("po_id", "line_no"),
    )


def downgrade() -> None:
    op.drop_table("purchase_order_lines")
    op.drop_index("ix_purchase_orders_store_status", table_name="purchase_orders")
    op.drop_table("purchase_orders")
    op.drop_table("suppliers")
