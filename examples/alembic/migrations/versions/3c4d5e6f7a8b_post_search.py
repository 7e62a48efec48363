"""post search: a generated column and a trigger function (dollar-quoted, as op.execute sends it)

Revision ID: 3c4d5e6f7a8b
Revises: 2b3c4d5e6f7a
"""

import sqlalchemy as sa
from alembic import op

revision = "3c4d5e6f7a8b"
down_revision = "2b3c4d5e6f7a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("posts", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        """
        CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          NEW.updated_at := now();  -- a semicolon inside the body
          RETURN NEW;
        END;
        $$
        """
    )
    op.execute("CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION touch_updated_at()")


def downgrade() -> None:
    op.execute("DROP TRIGGER posts_touch ON posts")
    op.execute("DROP FUNCTION touch_updated_at()")
    op.drop_column("posts", "updated_at")
