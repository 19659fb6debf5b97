"""The one SQLAlchemy ``MetaData`` every context's tables register on, so Alembic sees them all."""

from sqlalchemy import MetaData

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Wide enough for 18-decimal coins: 40 digits, 18 after the point.
AMOUNT_PRECISION = 40
AMOUNT_SCALE = 18
