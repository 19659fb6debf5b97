"""Profiles' personal data sealed at rest: names, date of birth, address, postcode and city
become text columns that hold key store ciphertext; ``sealed`` tells sealed rows apart.

SQL cannot seal without the key (which lives in the key file or in OpenBao/Vault), so this
migration only changes the types and keeps existing rows as they are, marked
``sealed = false`` (the date of birth as ISO text). ``bursa db upgrade`` and ``bursa up``
seal them right after migrating (``bursa.identity.pii.seal_clear_profiles``); until then
they are read as they are.

Downgrading is refused once a row is sealed: the ciphertext cannot go back into the old
types without the key.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# column -> its type before this migration
TEXT_COLUMNS: dict[str, sa.types.TypeEngine[str]] = {
    "first_name": sa.String(255),
    "last_name": sa.String(255),
    "address": sa.String(255),
    "postcode": sa.String(32),
    "city": sa.String(255),
}


def upgrade() -> None:
    op.add_column(
        "profiles", sa.Column("sealed", sa.Boolean(), nullable=False, server_default="false")
    )
    for name, old in TEXT_COLUMNS.items():
        op.alter_column("profiles", name, type_=sa.Text(), existing_type=old)
    # to_char, not ::text: the cast follows the server's DateStyle.
    op.alter_column(
        "profiles",
        "dob",
        type_=sa.Text(),
        existing_type=sa.Date(),
        postgresql_using="to_char(dob, 'YYYY-MM-DD')",
    )


def downgrade() -> None:
    if op.get_bind().execute(sa.text("SELECT 1 FROM profiles WHERE sealed LIMIT 1")).first():
        raise RuntimeError(
            "profiles hold sealed personal data, which cannot return to clear columns"
            " without the key store: restore a backup taken before 0012_profile_pii instead"
        )
    op.alter_column(
        "profiles", "dob", type_=sa.Date(), existing_type=sa.Text(), postgresql_using="dob::date"
    )
    for name, old in TEXT_COLUMNS.items():
        op.alter_column("profiles", name, type_=old, existing_type=sa.Text())
    op.drop_column("profiles", "sealed")
