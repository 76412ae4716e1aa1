"""Managers' approval PINs, the cart's whole-cart discount, and the shop's tax setting

Revision ID: 0060
Revises: 0040
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0060"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_pins",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("pin_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "updated_at",
            mysql.DATETIME(fsp=3),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP(3)"),
        ),
    )
    # JSON of the whole-cart discount the cashier set (NULL: none).
    op.add_column("carts", sa.Column("discount", sa.Text(), nullable=True))
    op.create_table(
        "shop_settings",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column(
            "updated_at",
            mysql.DATETIME(fsp=3),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP(3)"),
        ),
    )


def downgrade() -> None:
    op.drop_table("shop_settings")
    op.drop_column("carts", "discount")
    op.drop_table("user_pins")
