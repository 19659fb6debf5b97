"""Identity tables. Secrets are never stored in the clear: passwords as argon2 hashes,
session ids and one-time codes as SHA-256 digests; personal data (phone and document
numbers, profiles) as key store ciphertext."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from bursa.db.metadata import metadata

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("uid", String(16), nullable=False, unique=True),
    Column("email", String(254), nullable=False, unique=True),  # stored lower-case
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False, server_default="member"),
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("level", SmallInteger, nullable=False, server_default="0"),
    Column("referral_uid", String(16)),
    Column("data", Text, nullable=False, server_default=""),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("otp", Boolean, nullable=False, server_default="false"),
    Column("otp_secret", Text),  # key store ciphertext, never the seed itself
    Column("otp_last_step", BigInteger),
)

labels = Table(
    "labels",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(255), nullable=False),
    Column("value", String(255), nullable=False),
    Column("scope", String(8), nullable=False),  # public | private
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("user_id", "key", "scope", name="uq_labels_user_id_key_scope"),
)

user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id_digest", String(64), primary_key=True),  # sha256 of the cookie value
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(40), nullable=False),
    Column("user_ip", String(45), nullable=False),
    Column("user_agent", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_user_sessions_user_id", "user_id"),
)

one_time_codes = Table(
    "one_time_codes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(16), nullable=False),  # confirmation | reset | phone
    Column("code_digest", String(64), nullable=False),
    Column("attempts", SmallInteger, nullable=False, server_default="0"),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_one_time_codes_user_id_purpose", "user_id", "purpose"),
)

activities = Table(
    "activities",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE")),
    Column("user_ip", String(45), nullable=False),
    Column("user_agent", Text, nullable=False),
    Column("topic", String(16), nullable=False),  # session | password | account | otp
    Column("action", String(32), nullable=False),
    Column("result", String(8), nullable=False),  # succeed | failed | denied
    Column("data", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_activities_user_id_id", "user_id", "id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("kid", String(16), nullable=False, unique=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("algorithm", String(8), nullable=False),
    Column("scope", Text, nullable=False, server_default=""),
    Column("state", String(8), nullable=False, server_default="active"),
    Column("secret", Text, nullable=False),  # key store ciphertext
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_api_keys_user_id", "user_id"),
)

permissions = Table(
    "permissions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("role", String(16), nullable=False),
    Column("verb", String(8), nullable=False),  # GET POST PUT PATCH DELETE ALL
    Column("path", String(255), nullable=False),  # prefix, without the leading slash
    Column("action", String(8), nullable=False),  # ACCEPT DROP AUDIT
    Column("topic", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_permissions_role", "role"),
)

restrictions = Table(
    "restrictions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("scope", String(16), nullable=False),  # all ip ip_subnet country
    Column("value", String(64), nullable=False),
    Column("category", String(16), nullable=False),  # whitelist maintenance blacklist blocklogin
    Column("code", Integer, nullable=False),
    Column("state", String(8), nullable=False, server_default="enabled"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

phones = Table(
    "phones",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("number", Text, nullable=False),  # key store ciphertext
    Column("masked", String(24), nullable=False),  # what the member and admins see
    Column("validated_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_phones_user_id", "user_id"),
)

profiles = Table(
    "profiles",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # Key store ciphertext (bursa.identity.pii) once ``sealed``; clear only in rows written
    # before migration 0012 and not sealed yet. ``country`` stays clear: restrictions and
    # admin filters need it.
    Column("first_name", Text),
    Column("last_name", Text),
    Column("dob", Text),
    Column("address", Text),
    Column("postcode", Text),
    Column("city", Text),
    Column("country", String(3)),
    Column("sealed", Boolean, nullable=False, server_default="false"),
    Column("metadata", Text),
    Column("state", String(16), nullable=False),  # drafted submitted verified rejected
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("user_id", name="uq_profiles_user_id"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("doc_type", String(32), nullable=False),
    Column("doc_number", Text, nullable=False),  # key store ciphertext
    Column("doc_expire", Date),
    Column("upload", String(64), nullable=False),  # file name in the storage folder
    Column("content_type", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_documents_user_id", "user_id"),
    Index("ix_documents_state", "state"),
)
