"""users.locale: the language each person's pages are in ("en" or "my")

Revision ID: 0040
Revises: 0032
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # People made before this read English pages, as they did.
    op.add_column(
        "users", sa.Column("locale", sa.String(length=8), nullable=False, server_default="en")
    )


def downgrade() -> None:
    op.drop_column("users", "locale")
