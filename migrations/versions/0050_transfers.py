"""Transfers between stores: stocks.total_transferred (in less out), and the transfers
with their lines (in transit until received)

Revision ID: 0050
Revises: 0060
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0050"
down_revision = "0060"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "stocks",
        sa.Column("total_transferred", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "transfers",
        sa.Column("transfer_id", sa.String(40), primary_key=True),
        sa.Column("from_store_id", sa.String(40), nullable=False),
        sa.Column("to_store_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.Column("sent_by", sa.String(80), nullable=False),
        sa.Column("sent_at", mysql.DATETIME(fsp=3), nullable=False),
        sa.Column("received_by", sa.String(80)),
        sa.Column("received_at", mysql.DATETIME(fsp=3)),
    )
    op.create_index("ix_transfers_to_status", "transfers", ["to_store_id", "status"])
    op.create_index("ix_transfers_from_status", "transfers", ["from_store_id", "status"])
    op.create_table(
        "transfer_lines",
        sa.Column(
            "transfer_id",
            sa.String(40),
            sa.ForeignKey("transfers.transfer_id"),
            primary_key=True,
        ),
        sa.Column("line_no", sa.SmallInteger(), primary_key=True),
        sa.Column("sku", sa.String(40), sa.ForeignKey("products.sku"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("transfer_lines")
    op.drop_table("transfers")
    op.drop_column("stocks", "total_transferred")
