"""The one-time code table holds phone codes too: ``email_codes`` becomes ``one_time_codes``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.rename_table("email_codes", "one_time_codes")
    op.execute("ALTER TABLE one_time_codes RENAME CONSTRAINT pk_email_codes TO pk_one_time_codes")
    op.execute(
        "ALTER TABLE one_time_codes RENAME CONSTRAINT email_codes_user_id_fkey"
        " TO one_time_codes_user_id_fkey"
    )
    op.execute(
        "ALTER INDEX ix_email_codes_user_id_purpose RENAME TO ix_one_time_codes_user_id_purpose"
    )
    op.execute("ALTER SEQUENCE email_codes_id_seq RENAME TO one_time_codes_id_seq")


def downgrade() -> None:
    op.execute("ALTER SEQUENCE one_time_codes_id_seq RENAME TO email_codes_id_seq")
    op.execute(
        "ALTER INDEX ix_one_time_codes_user_id_purpose RENAME TO ix_email_codes_user_id_purpose"
    )
    op.execute(
        "ALTER TABLE one_time_codes RENAME CONSTRAINT one_time_codes_user_id_fkey"
        " TO email_codes_user_id_fkey"
    )
    op.execute("ALTER TABLE one_time_codes RENAME CONSTRAINT pk_one_time_codes TO pk_email_codes")
    op.rename_table("one_time_codes", "email_codes")
