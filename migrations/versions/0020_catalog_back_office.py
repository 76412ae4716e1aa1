"""the back office's catalogue: a product's style (family) and cost price, the price
history, and catalogue imports waiting for the manager's confirmation

Revision ID: 0020
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0020"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("products", sa.Column("style", sa.String(length=120), nullable=True))
    # Nullable: products made before this have no known cost.
    op.add_column("products", sa.Column("cost_price", sa.DECIMAL(12, 2), nullable=True))
    op.create_table(
        "price_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("old_price", sa.DECIMAL(12, 2), nullable=True),
        sa.Column("new_price", sa.DECIMAL(12, 2), nullable=False),
        sa.Column("changed_by", sa.String(length=80), nullable=False),
        sa.Column(
            "changed_at",
            mysql.DATETIME(fsp=3),
            server_default=sa.text("CURRENT_TIMESTAMP(3)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_price_history_sku", "price_history", ["sku", "id"])
    op.create_table(
        "catalog_import_drafts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by", sa.String(length=80), nullable=False),
        sa.Column("rows", mysql.MEDIUMTEXT(), nullable=False),
        sa.Column(
            "created_at",
            mysql.DATETIME(fsp=3),
            server_default=sa.text("CURRENT_TIMESTAMP(3)"),
            nullable=False,
        ),
        sa.Column("applied_at", mysql.DATETIME(fsp=3), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("catalog_import_drafts")
    op.drop_index("ix_price_history_sku", table_name="price_history")
    op.drop_table("price_history")
    op.drop_column("products", "cost_price")
    op.drop_column("products", "style")
