"""users.stores, api_keys.stores: the stores each person and key may read and write

Revision ID: 0070
Revises: 0051
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0070"
down_revision = "0051"
branch_labels = None
depends_on = None

# Every table that names a store: people and keys made before stores existed keep
# reaching all of them, so a one-shop install works on as it did.
_STORE_TABLES = ("product_stores", "stocks", "sale_documents", "sales_daily", "shifts", "carts")


def upgrade() -> None:
    for table in ("users", "api_keys"):
        op.add_column(
            table, sa.Column("stores", sa.String(length=400), nullable=False, server_default="")
        )
    from pos_app.settings import get_settings

    conn = op.get_bind()
    known = {get_settings().store_id}
    for table in _STORE_TABLES:
        known.update(conn.execute(sa.text(f"SELECT DISTINCT store_id FROM {table}")).scalars())
    every = " ".join(sorted(known))
    for table in ("users", "api_keys"):
        conn.execute(sa.text(f"UPDATE {table} SET stores = :every"), {"every": every})


def downgrade() -> None:
    for table in ("users", "api_keys"):
        op.drop_column(table, "stores")
