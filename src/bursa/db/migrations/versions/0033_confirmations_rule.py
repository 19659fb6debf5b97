"""A deposit needs its blockchain's confirmations; a currency's own number is only an override.

Before, the currency's ``min_confirmations`` (never empty, 6 by default) decided and the
blockchain's was used for sweeps only. Values equal to their chain's, and those of currencies
on no configured chain, become NULL (follow the chain); a value that differs from its chain's
stays, now shown as an override, so no installed exchange credits at a different depth.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("currencies", "min_confirmations", nullable=True, server_default=None)
    op.execute(
        """
        UPDATE currencies c SET min_confirmations = NULL
        WHERE c.type = 'fiat' OR c.min_confirmations < 1
           OR NOT EXISTS (SELECT 1 FROM blockchains b WHERE b.key = c.blockchain_key)
           OR c.min_confirmations = (
                SELECT b.min_confirmations FROM blockchains b WHERE b.key = c.blockchain_key)
        """
    )
    op.create_check_constraint(
        "ck_currencies_min_confirmations_positive",
        "currencies",
        "min_confirmations IS NULL OR min_confirmations >= 1",
    )


def downgrade() -> None:
    op.drop_constraint("ck_currencies_min_confirmations_positive", "currencies")
    op.execute(
        """
        UPDATE currencies c SET min_confirmations = coalesce(
            (SELECT b.min_confirmations FROM blockchains b WHERE b.key = c.blockchain_key), 6)
        WHERE c.min_confirmations IS NULL
        """
    )
    op.alter_column("currencies", "min_confirmations", nullable=False, server_default="6")
