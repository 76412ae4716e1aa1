"""Shifts and the cash paid in and out during them. The app writes these; the figures of
a shift's sales come from what the stream job stores (sale_totals, sale_payments)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Computed, ForeignKey, Index, String, Table, Text
from sqlalchemy.dialects.mysql import DATETIME

from pos_app.db.tables import AMOUNT, STORE, metadata

shifts = Table(
    "shifts",
    metadata,
    Column("shift_id", BigInteger, primary_key=True, autoincrement=True),
    Column("store_id", STORE, nullable=False),
    Column("register_id", String(40), nullable=False),
    Column("cashier", String(60), nullable=False),  # who opened it
    Column("opened_at", DATETIME(fsp=3), nullable=False),  # UTC
    Column("opening_float", AMOUNT, nullable=False),
    Column("closed_at", DATETIME(fsp=3)),  # UTC; null while open
    Column("closed_by", String(60)),
    Column("counted_notes", Text),  # JSON: note value -> how many, as counted at close
    Column("counted_cash", AMOUNT),
    # Set only while open, and unique: one open shift per register.
    Column(
        "open_register",
        String(81),
        Computed("IF(closed_at IS NULL, CONCAT(store_id, '/', register_id), NULL)", persisted=True),
        unique=True,
    ),
    Index("ix_shifts_store_opened", "store_id", "opened_at"),
)

cash_movements = Table(
    "cash_movements",
    metadata,
    Column("movement_id", BigInteger, primary_key=True, autoincrement=True),
    Column("shift_id", BigInteger, ForeignKey("shifts.shift_id"), nullable=False),
    Column("kind", String(3), nullable=False),  # in | out
    Column("amount", AMOUNT, nullable=False),  # positive
    Column("reason", String(200), nullable=False),
    Column("recorded_by", String(60), nullable=False),
    Column("recorded_at", DATETIME(fsp=3), nullable=False),  # UTC
    Index("ix_cash_movements_shift", "shift_id"),
)
