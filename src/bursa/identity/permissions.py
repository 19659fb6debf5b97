"""The permission table Bursa starts with: OpenDAX's seeds for Barong (role, verb, path
prefix, action). ``DROP`` beats ``ACCEPT``; ``AUDIT`` records the request as an activity."""

from bursa.identity.rules import Role

STANDARD = [
    ("ALL", "api/v2/peatio/account", "ACCEPT"),
    ("ALL", "api/v2/peatio/market", "ACCEPT"),
    ("ALL", "api/v2/barong/resource", "ACCEPT"),
    ("GET", "api/v2/ranger", "ACCEPT"),
    ("ALL", "api/v2/applogic", "ACCEPT"),
]
WRITES_AUDITED = [(verb, "api/v2/", "AUDIT") for verb in ("POST", "PUT", "PATCH", "DELETE")]
STAFF_READ = [
    ("GET", "api/v2/barong/admin", "ACCEPT"),
    ("GET", "api/v2/peatio/admin", "ACCEPT"),
]
# A market-making bot's service account: the standard set, but never account security,
# KYC, funds leaving the exchange, or other service accounts' keys.
SA_MAKER_DROPS = [
    *(
        f"api/v2/barong/resource/{p}"
        for p in (
            "otp",
            "phones",
            "profiles",
            "documents",
            "addresses",
            "api_keys",
            "users/password",
            "service_accounts",
        )
    ),
    "api/v2/applogic/private/tenants",
    *(f"api/v2/peatio/account/{p}" for p in ("deposit_address", "withdraws", "beneficiaries")),
]

DEFAULT_PERMISSIONS: list[tuple[str, str, str, str]] = (
    [(Role.SUPERADMIN, verb, path, action) for verb, path, action in
     [("ALL", "api/v2", "ACCEPT"), *WRITES_AUDITED]]
    + [(Role.ADMIN, verb, path, action) for verb, path, action in [
        ("ALL", "api/v2", "ACCEPT"),
        ("ALL", "api/v2/barong/admin/permissions", "DROP"),
        ("ALL", "api/v2/barong/admin/users/role", "DROP"),
        ("ALL", "api/v2/barong/admin/activities/admin", "DROP"),
        *WRITES_AUDITED,
    ]]
    + [
        (role, verb, path, action)
        for role in (Role.ACCOUNTANT, Role.COMPLIANCE, Role.TECHNICAL, Role.SUPPORT)
        for verb, path, action in [*STAFF_READ, *STANDARD, *WRITES_AUDITED]
    ]
    + [(Role.TECHNICAL, "ALL", f"api/v2/peatio/admin/{p}", "ACCEPT")
       for p in ("currencies", "markets", "trading_fees", "orders")]  # migration 0017
    + [(Role.ACCOUNTANT, "POST", "api/v2/peatio/admin/adjustments", "ACCEPT")]
    + [(Role.COMPLIANCE, "ALL", f"api/v2/peatio/admin/{p}", "DROP")
       for p in ("adjustments", "revenues", "blockchains", "wallets", "trading_fees")]
    + [(Role.TECHNICAL, "ALL", f"api/v2/peatio/admin/{p}", "DROP")
       for p in ("deposits", "withdraws", "adjustments")]
    + [
        (role, verb, path, action)
        for role in (Role.MEMBER, Role.TRADER, Role.BROKER, Role.MAKER)
        for verb, path, action in STANDARD
    ]
    + [("sa_maker", verb, path, action) for verb, path, action in STANDARD]
    + [("sa_maker", "ALL", path, "DROP") for path in SA_MAKER_DROPS]
)  # fmt: skip

# Reachable without authentication (no Authorization header is produced) and never.
PASS_PREFIXES = (
    "api/v2/barong/public",
    "api/v2/barong/identity",
    "api/v2/barong/oauth",  # OAuth clients and tokens authenticate at the endpoints
    "api/v2/peatio/public",
    "api/v2/ranger/public",
    "api/v2/applogic/public",
)
BLOCK_PREFIXES = ("api/v2/barong/management", "api/v2/peatio/management")
