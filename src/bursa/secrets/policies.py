"""Which Bursa process may do what with which transit key: one OpenBao/Vault policy per
role, rendered from the table below (``deploy/openbao/policies`` holds them rendered).

Wallet keys (``custody-wallet``) are sealed by the API (new deposit addresses) and by the
operator (new hot and fee wallets), but only the sender and the sweeper may open them: a
compromised API process cannot sign a transaction. Processes that hold no secret at all
(the engine, the mailer, AppLogic, the Event API relay, the bots, the candle writer) get
no role: they never log in to the key store.
"""

import textwrap
from dataclasses import dataclass
from enum import StrEnum


class Use(StrEnum):
    """A transit operation; each is one ``update`` capability on its own path."""

    ENCRYPT = "encrypt"
    DECRYPT = "decrypt"


BOTH = (Use.ENCRYPT, Use.DECRYPT)

# Every transit key Bursa uses, and what it seals (the names are in the modules that use
# them; tests check the two agree).
TRANSIT_KEYS: dict[str, str] = {
    "bursa-pii": "members' personal data: profiles, phones, documents, addresses",
    "bursa-totp": "members' two-factor (TOTP) seeds",
    "bursa-api-key": "the secrets of members' API keys",
    "bursa-token-keys": "the keys that sign confirmation and reset tokens",
    "custody-beneficiary": "withdrawal beneficiaries' details",
    "custody-node": "blockchain node URLs (they may hold credentials)",
    "custody-wallet": "private keys of hot, fee and deposit wallets",
}

_MEMBERS_SECRETS = {
    "bursa-pii": BOTH,
    "bursa-totp": BOTH,
    "bursa-api-key": BOTH,
    "bursa-token-keys": BOTH,
    "custody-beneficiary": BOTH,
    "custody-node": BOTH,
}


@dataclass(frozen=True, slots=True)
class Role:
    summary: str
    uses: dict[str, tuple[Use, ...]]  # transit key → what the role may do with it


ROLES: dict[str, Role] = {
    "api": Role(
        "`bursa api` (and its admin and management APIs): members' secrets; seals new"
        " deposit addresses' keys but may not open any wallet key",
        {**_MEMBERS_SECRETS, "custody-wallet": (Use.ENCRYPT,)},
    ),
    "operator": Role(
        "the operator's commands (`bursa user create`, `bursa custody blockchain|wallet"
        " add`, `bursa db upgrade`, `bursa seed`): as the API",
        {**_MEMBERS_SECRETS, "custody-wallet": (Use.ENCRYPT,)},
    ),
    "scanner": Role(
        "`bursa custody scan` without senders: reads node URLs only",
        {"custody-node": (Use.DECRYPT,)},
    ),
    "sender": Role(
        "the withdrawal sender: signs with hot wallets' keys",
        {"custody-node": (Use.DECRYPT,), "custody-wallet": (Use.DECRYPT,)},
    ),
    "sweeper": Role(
        "`bursa custody sweep`: signs with deposit, fee and hot wallets' keys",
        {"custody-node": (Use.DECRYPT,), "custody-wallet": (Use.DECRYPT,)},
    ),
    "standalone": Role(
        "`bursa up`, every part in one process: everything",
        dict.fromkeys(TRANSIT_KEYS, BOTH),
    ),
}

# What every role's token may do to itself: look itself up (to tell a policy's refusal
# from an expired token), renew itself, and give itself back on exit.
_SELF = (
    ("auth/token/lookup-self", "read"),
    ("auth/token/renew-self", "update"),
    ("auth/token/revoke-self", "update"),
)


def policy_name(role: str) -> str:
    return f"bursa-{role}"


def render(role: str, *, transit_mount: str = "transit") -> str:
    """The HCL policy of ``role``: exactly the paths its uses need, nothing else."""
    spec = ROLES[role]
    header = textwrap.wrap(f"{policy_name(role)}: {spec.summary}.", width=86)
    lines = [f"# {line}" for line in header]
    lines.append(
        "# Rendered by `bursa secrets policies` from bursa/secrets/policies.py: edit that."
    )
    for key, uses in sorted(spec.uses.items()):
        for use in uses:
            lines += [
                "",
                f'path "{transit_mount}/{use}/{key}" {{',
                '  capabilities = ["update"]',
                "}",
            ]
    for path, capability in _SELF:
        lines += ["", f'path "{path}" {{', f'  capabilities = ["{capability}"]', "}"]
    return "\n".join(lines) + "\n"


def may(role: str, key: str, use: Use) -> bool:
    return use in ROLES[role].uses.get(key, ())
