"""Orders' UUIDs derived from their ids (``bursa.engine.order_uuids``), set by a trigger as
the engine inserts them, so the API can answer a placement without reading it back.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMESPACE_HEX = "989eb77131d35ceab7559a50b4a75a0a"  # bursa.engine.order_uuids.ORDER_NAMESPACE


def upgrade() -> None:
    # uuid3: MD5 of namespace bytes + name, version nibble 3, RFC 4122 variant (10xx).
    op.execute(
        f"""
CREATE FUNCTION bursa_order_uuid(order_id bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (substr(h, 1, 12) || '3' || substr(h, 14, 3)
            || substr('89ab', (get_byte(decode(substr(h, 17, 2), 'hex'), 0) >> 4 & 3) + 1, 1)
            || substr(h, 18))::uuid
      FROM md5(decode('{NAMESPACE_HEX}', 'hex') || convert_to(order_id::text, 'UTF8')) AS h
$$"""
    )
    op.execute(
        """
CREATE FUNCTION orders_derive_uuid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.uuid := bursa_order_uuid(NEW.id);
    RETURN NEW;
END
$$"""
    )
    op.execute(
        "CREATE TRIGGER orders_derive_uuid BEFORE INSERT ON orders "
        "FOR EACH ROW EXECUTE FUNCTION orders_derive_uuid()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER orders_derive_uuid ON orders")
    op.execute("DROP FUNCTION orders_derive_uuid()")
    op.execute("DROP FUNCTION bursa_order_uuid(bigint)")
