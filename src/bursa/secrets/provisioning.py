"""Setting up OpenBao/Vault for Bursa, with an administrator's token: the transit engine
and every key Bursa uses, the AppRole method, one policy and one role per process role.

Idempotent: run again after an upgrade, it adds what is new and rewrites the policies and
roles as this version defines them. It never deletes a key. The audit device is not made
here: OpenBao only accepts audit devices from its server configuration
(``deploy/openbao/audit.hcl``), so ``provision`` checks that one is enabled.
"""

from dataclasses import dataclass, field
from typing import Any

import hvac

from bursa.secrets.errors import KeyStoreError
from bursa.secrets.policies import ROLES, TRANSIT_KEYS, policy_name, render


@dataclass(frozen=True, slots=True)
class TokenTerms:
    """What a role's login grants: a TTL renewed up to the max TTL, then a new login."""

    ttl: str = "1h"
    max_ttl: str = "24h"
    secret_id_ttl: str = "0"  # noqa: S105 - a duration: 0 = the secret id never expires
    bound_cidrs: list[str] = field(default_factory=list)  # where logins may come from


@dataclass(frozen=True, slots=True)
class Provisioned:
    audit_devices: list[str]
    keys_created: list[str]
    roles: list[str]


def audit_devices(client: hvac.Client) -> list[str]:
    """Paths of the enabled audit devices."""
    answer: dict[str, Any] = client.sys.list_enabled_audit_devices()
    found = answer.get("data", answer)
    return sorted(path for path, device in found.items() if isinstance(device, dict))


def provision(
    client: hvac.Client,
    *,
    terms: TokenTerms = TokenTerms(),
    transit_mount: str = "transit",
    approle_mount: str = "approle",
    require_audit: bool = True,
) -> Provisioned:
    devices = audit_devices(client)
    if require_audit and not devices:
        raise KeyStoreError(
            "no audit device is enabled: add deploy/openbao/audit.hcl to the server's"
            " configuration and restart it (OpenBao refuses audit devices made through its API)"
        )
    mounts = client.sys.list_mounted_secrets_engines().get("data", {})
    if f"{transit_mount}/" not in mounts:
        client.sys.enable_secrets_engine("transit", path=transit_mount)
    created = []
    for name in TRANSIT_KEYS:
        try:
            client.secrets.transit.read_key(name=name, mount_point=transit_mount)
        except hvac.exceptions.InvalidPath:
            client.secrets.transit.create_key(name=name, mount_point=transit_mount)
            created.append(name)
    methods = client.sys.list_auth_methods().get("data", {})
    if f"{approle_mount}/" not in methods:
        client.sys.enable_auth_method("approle", path=approle_mount)
    for role in ROLES:
        client.sys.create_or_update_policy(
            policy_name(role), render(role, transit_mount=transit_mount)
        )
        client.auth.approle.create_or_update_approle(
            policy_name(role),
            token_policies=[policy_name(role)],
            token_no_default_policy=True,  # the policy lists every path the role needs
            token_type="service",  # noqa: S106 - a kind of token: batch ones cannot renew
            token_ttl=terms.ttl,
            token_max_ttl=terms.max_ttl,
            secret_id_ttl=terms.secret_id_ttl,
            token_bound_cidrs=terms.bound_cidrs or None,
            secret_id_bound_cidrs=terms.bound_cidrs or None,
            mount_point=approle_mount,
        )
    return Provisioned(devices, created, [policy_name(role) for role in ROLES])


def issue_credentials(
    client: hvac.Client, role: str, *, approle_mount: str = "approle"
) -> tuple[str, str]:
    """The role id of ``role`` and a new secret id for one process (or one deployment)."""
    if role not in ROLES:
        raise KeyStoreError(f"no role {role!r}: one of {', '.join(ROLES)}")
    name = policy_name(role)
    role_id = client.auth.approle.read_role_id(name, mount_point=approle_mount)
    secret = client.auth.approle.generate_secret_id(name, mount_point=approle_mount)
    return str(role_id["data"]["role_id"]), str(secret["data"]["secret_id"])
