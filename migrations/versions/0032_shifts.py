"""shifts and cash_movements: a cashier's shift at a register, its float, cash paid in
and out, and the drawer count at close

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    money = sa.DECIMAL(precision=14, scale=2)
    op.create_table(
        "shifts",
        sa.Column("shift_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("register_id", sa.String(length=40), nullable=False),
        sa.Column("cashier", sa.String(length=60), nullable=False),
        sa.Column("opened_at", mysql.DATETIME(fsp=3), nullable=False),
        sa.Column("opening_float", money, nullable=False),
        sa.Column("closed_at", mysql.DATETIME(fsp=3), nullable=True),
        sa.Column("closed_by", sa.String(length=60), nullable=True),
        sa.Column("counted_notes", sa.Text(), nullable=True),
        sa.Column("counted_cash", money, nullable=True),
        sa.Column(
            "open_register",
            sa.String(length=81),
            sa.Computed(
                "IF(closed_at IS NULL, CONCAT(store_id, '/', register_id), NULL)", persisted=True
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("shift_id"),
        sa.UniqueConstraint("open_register"),
    )
    op.create_index("ix_shifts_store_opened", "shifts", ["store_id", "opened_at"])
    op.create_table(
        "cash_movements",
        sa.Column("movement_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shift_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=3), nullable=False),
        sa.Column("amount", money, nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=60), nullable=False),
        sa.Column("recorded_at", mysql.DATETIME(fsp=3), nullable=False),
        sa.ForeignKeyConstraint(["shift_id"], ["shifts.shift_id"]),
        sa.PrimaryKeyConstraint("movement_id"),
    )
    op.create_index("ix_cash_movements_shift", "cash_movements", ["shift_id"])


def downgrade() -> None:
    op.drop_table("cash_movements")
    op.drop_table("shifts")
