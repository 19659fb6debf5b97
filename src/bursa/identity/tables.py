"""Identity tables. Secrets are never stored in the clear: passwords as argon2 hashes,
session ids and one-time codes as SHA-256 digests; personal data (phone and document
numbers, profiles) as key store ciphertext."""

from sqlalchemy import (
    ARRAY,
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
    Column("username", String(12), unique=True),  # optional, stored lower-case
    # Wrong second factors in a row, and the lock they set (migration 0032).
    Column("failed_otps", Integer, nullable=False, server_default="0"),
    Column("otp_locked_until", DateTime(timezone=True)),
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

service_accounts = Table(
    "service_accounts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("uid", String(16), nullable=False, unique=True),  # SI + 10 hex
    Column("owner_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(254), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("level", SmallInteger, nullable=False, server_default="0"),
    Column("state", String(16), nullable=False, server_default="active"),  # active | disabled
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_service_accounts_owner_id", "owner_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("kid", String(16), nullable=False, unique=True),
    # The owner: the user, or the user who owns the service account holding the key.
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column(
        "service_account_id",
        BigInteger,
        ForeignKey("service_accounts.id", ondelete="CASCADE"),
    ),  # set when the key is a service account's
    Column("algorithm", String(8), nullable=False),
    Column("scope", Text, nullable=False, server_default=""),
    Column("state", String(8), nullable=False, server_default="active"),
    Column("secret", Text, nullable=False),  # key store ciphertext
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_api_keys_user_id", "user_id"),
    Index("ix_api_keys_service_account_id", "service_account_id"),
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
    Column("country", String(2)),  # ISO 3166 alpha-2, from the number's calling code
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
    Column("reason", Text),  # why an admin rejected it
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The admin who entered it for the member (migration 0037); another admin verifies it.
    Column("author_uid", String(16)),
    UniqueConstraint("user_id", name="uq_profiles_user_id"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("doc_type", String(32), nullable=False),  # "address" for an address proof
    Column("doc_number", Text),  # key store ciphertext (none on an address proof)
    Column("doc_expire", Date),
    Column("upload", String(64), nullable=False),  # file name in the storage folder
    Column("content_type", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("reason", Text),
    Column("country", String(3)),  # address proofs: ISO 3166 code
    Column("address", Text),  # address proofs: key store ciphertext of address, city, postcode
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_documents_user_id", "user_id"),
    Index("ix_documents_state", "state"),
)

oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False, unique=True),
    Column("secret_digest", String(64)),  # sha256 of the secret; NULL for public clients
    Column("name", String(100), nullable=False),
    Column("redirect_uris", ARRAY(Text), nullable=False),
    Column("scopes", Text, nullable=False),  # space-separated, what the client may ask for
    Column("auth_method", String(32), nullable=False),  # client_secret_basic|_post|none
    Column("state", String(8), nullable=False, server_default="active"),
    Column("created_by", BigInteger, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def _oauth_client() -> ForeignKey:
    return ForeignKey("oauth_clients.client_id", ondelete="CASCADE")


oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_digest", String(64), primary_key=True),
    Column("grant_id", String(32), nullable=False),  # the tokens it leads to share it
    Column("client_id", String(32), _oauth_client(), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("nonce", String(255)),
    Column("code_challenge", String(128), nullable=False),
    Column("code_challenge_method", String(8), nullable=False),
    Column("auth_time", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Index("ix_oauth_codes_client_id_nonce", "client_id", "nonce"),
)

oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("grant_id", String(32), nullable=False),
    Column("client_id", String(32), _oauth_client(), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("scope", Text, nullable=False),
    Column("access_digest", String(64), nullable=False, unique=True),
    Column("refresh_digest", String(64), unique=True),
    Column("access_expires_at", DateTime(timezone=True), nullable=False),
    Column("refresh_expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_oauth_tokens_grant_id", "grant_id"),
    Index("ix_oauth_tokens_user_id_client_id", "user_id", "client_id"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("author_uid", String(16), nullable=False),  # the admin who wrote it
    Column("title", String(64), nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_comments_user_id", "user_id"),
)

data_storages = Table(
    "data_storages",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(64), nullable=False),
    Column("data", Text, nullable=False),  # a JSON object, at most 5 KB
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("user_id", "title", name="uq_data_storages_user_id_title"),
)

# Single-use links an admin hands out so that their holder can whitelist their own IP
# (``identity.whitelinks``, migration 0037). Only the token's SHA-256 digest is kept.
whitelinks = Table(
    "whitelinks",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("token_digest", String(64), nullable=False),
    Column("created_by", BigInteger, ForeignKey("users.id", ondelete="SET NULL")),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("used_ip", String(45)),
    Column("restriction_id", BigInteger, ForeignKey("restrictions.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("token_digest", name="uq_whitelinks_token_digest"),
)

# Keys Bursa signs its own short-lived tokens with (``identity.confirmation_tokens``:
# the links in confirmation and reset mails; migration 0035). Each is random, kept only as
# key store ciphertext, and shared by every API process through this row.
token_keys = Table(
    "token_keys",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("sealed", Text, nullable=False),  # key store ciphertext of the HMAC key
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# KYC providers' callbacks applied or acknowledged (``identity.kyc_callbacks``, migration
# 0036): a callback's own id is taken once, so a replayed (or re-delivered) one changes
# nothing. What it decided is on the member's labels and activities.
kyc_callbacks = Table(
    "kyc_callbacks",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("provider", String(16), nullable=False),
    Column("callback_id", String(64), nullable=False),
    Column("kind", String(64), nullable=False),  # the provider's callback type
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="SET NULL")),
    Column("reference", String(64)),  # the provider's id of the verification
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("provider", "callback_id", name="uq_kyc_callbacks_provider_callback_id"),
)
