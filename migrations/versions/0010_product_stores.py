"""product_stores: the stores each product is sold at

Until now every product showed at every store's counter, so importing one store's
history put its products on the others'. A product stays at each store that stocks it;
a product no store stocks yet stays at every store, so nothing vanishes from a counter.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_stores",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=40), sa.ForeignKey("products.sku"), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "sku"),
    )
    op.execute("INSERT INTO product_stores (store_id, sku) SELECT store_id, sku FROM stocks")
    op.execute(
        "INSERT IGNORE INTO product_stores (store_id, sku) "
        "SELECT s.store_id, p.sku FROM (SELECT DISTINCT store_id FROM stocks) AS s "
        "CROSS JOIN products AS p "
        "WHERE NOT EXISTS (SELECT 1 FROM stocks AS t WHERE t.sku = p.sku)"
    )


def downgrade() -> None:
    op.drop_table("product_stores")
