"""counter: product barcodes, and carts the cashier builds, holds and resumes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("products", sa.Column("barcode", sa.String(length=32), nullable=True))
    op.create_index("ux_products_barcode", "products", ["barcode"], unique=True)
    op.create_table(
        "carts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("cashier", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),  # open | held
        sa.Column("lines", sa.Text(), nullable=False),  # JSON list of cart lines
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
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_carts_cashier_status", "carts", ["store_id", "cashier", "status"])


def downgrade() -> None:
    op.drop_table("carts")
    op.drop_index("ux_products_barcode", table_name="products")
    op.drop_column("products", "barcode")
