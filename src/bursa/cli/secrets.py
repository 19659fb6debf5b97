"""``bursa secrets …``: set up OpenBao/Vault for production (transit keys, AppRole, one
policy per role) and hand each process its credentials. See deploy/openbao/README.md."""

import os
from pathlib import Path
from typing import Annotated

import hvac
import requests
import typer
from rich.console import Console

from bursa.cli.context import load_settings
from bursa.cli.errors import fail
from bursa.secrets.configured import keystore_from_settings
from bursa.secrets.errors import KeyStoreError
from bursa.secrets.keystore import TransitKeyStore
from bursa.secrets.policies import ROLES, render
from bursa.secrets.provisioning import TokenTerms, issue_credentials, provision

console = Console()
TERMS = TokenTerms()  # the defaults
secrets_app = typer.Typer(help="Production secrets (OpenBao/Vault).", no_args_is_help=True)

Url = Annotated[
    str,
    typer.Option("--url", envvar=["BURSA_VAULT_URL", "BAO_ADDR", "VAULT_ADDR"], help="the server"),
]
TokenFile = Annotated[
    Path | None,
    typer.Option(help="file holding an administrator's token; else $BAO_TOKEN or $VAULT_TOKEN"),
]
TransitMount = Annotated[str, typer.Option(envvar="BURSA_VAULT_TRANSIT_MOUNT")]
ApproleMount = Annotated[str, typer.Option(envvar="BURSA_VAULT_APPROLE_MOUNT")]


def admin_client(url: str, token_file: Path | None) -> hvac.Client:
    """A client with the administrator's token (never taken from the command line, where
    other users could see it)."""
    token = token_file.read_text().strip() if token_file else None
    token = token or os.environ.get("BAO_TOKEN") or os.environ.get("VAULT_TOKEN")
    if not token:
        fail("no administrator token", "set BAO_TOKEN (or VAULT_TOKEN), or give --token-file")
    return hvac.Client(url=url, token=token, timeout=10)


@secrets_app.command("setup")
def setup(
    url: Url,
    token_file: TokenFile = None,
    token_ttl: Annotated[str, typer.Option(help="a login's token lifetime")] = TERMS.ttl,
    token_max_ttl: Annotated[
        str, typer.Option(help="renewed up to this, then log in")
    ] = TERMS.max_ttl,
    secret_id_ttl: Annotated[
        str, typer.Option(help="0: secret ids do not expire")
    ] = TERMS.secret_id_ttl,
    bind_cidr: Annotated[
        list[str] | None, typer.Option(help="accept logins only from here (repeatable)")
    ] = None,
    without_audit: Annotated[
        bool, typer.Option("--without-audit", help="development only: no audit device")
    ] = False,
    transit_mount: TransitMount = "transit",
    approle_mount: ApproleMount = "approle",
) -> None:
    """Enable transit and AppRole, create every transit key, and write one policy and one
    AppRole role per Bursa role (idempotent). Checks an audit device is enabled."""
    client = admin_client(url, token_file)
    terms = TokenTerms(token_ttl, token_max_ttl, secret_id_ttl, list(bind_cidr or []))
    try:
        done = provision(
            client,
            terms=terms,
            transit_mount=transit_mount,
            approle_mount=approle_mount,
            require_audit=not without_audit,
        )
    except KeyStoreError as exc:
        fail(str(exc))
    except (hvac.exceptions.VaultError, requests.RequestException) as exc:
        fail(f"setting up {url} failed: {type(exc).__name__}", "is the token an administrator's?")
    console.print(f"audit devices: {', '.join(done.audit_devices) or 'none (development)'}")
    console.print(f"transit keys created: {', '.join(done.keys_created) or 'none (all there)'}")
    console.print(f"roles: {', '.join(done.roles)}")
    console.print("next: `bursa secrets credentials ROLE --out DIR` for each process")


@secrets_app.command("credentials")
def credentials(
    role: Annotated[str, typer.Argument(help=f"one of {', '.join(ROLES)}")],
    out: Annotated[Path, typer.Option(help="folder to write role-id and secret-id into")],
    url: Url,
    token_file: TokenFile = None,
    approle_mount: ApproleMount = "approle",
) -> None:
    """Write ROLE's role id and a new secret id to files (mode 600) for one process; the
    secret id is never printed."""
    client = admin_client(url, token_file)
    try:
        role_id, secret_id = issue_credentials(client, role, approle_mount=approle_mount)
    except KeyStoreError as exc:
        fail(str(exc))
    except (hvac.exceptions.VaultError, requests.RequestException) as exc:
        fail(f"issuing {role}'s credentials failed: {type(exc).__name__}", "run `setup` first?")
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, value in (("role-id", role_id), ("secret-id", secret_id)):
        path = out / name
        path.unlink(missing_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(value)  # no newline: `bao write … secret_id=@FILE` takes it as is
    console.print(f"wrote {out / 'role-id'} and {out / 'secret-id'}; give the process:")
    console.print("  BURSA_VAULT_AUTH=approle")
    console.print(f"  BURSA_VAULT_ROLE_ID_FILE={out / 'role-id'}")
    console.print(f"  BURSA_VAULT_SECRET_ID_FILE={out / 'secret-id'}")


@secrets_app.command("policies")
def policies(
    out: Annotated[Path, typer.Option(help="folder for one ROLE.hcl per role")],
    transit_mount: TransitMount = "transit",
) -> None:
    """Write the policies as HCL, to review them or apply them by other means."""
    out.mkdir(parents=True, exist_ok=True)
    for role in ROLES:
        (out / f"{role}.hcl").write_text(render(role, transit_mount=transit_mount))
    console.print(f"wrote {len(ROLES)} policies to {out}")


@secrets_app.command("check")
def check() -> None:
    """Log in as this process's settings say and show what the key store grants it."""
    settings = load_settings()
    if settings.vault_url is None:
        fail("BURSA_VAULT_URL is not set: the local key file is in use")
    store = keystore_from_settings(settings)
    assert isinstance(store, TransitKeyStore)
    try:
        store.auth.ensure()
        found = store.client.auth.token.lookup_self()["data"]
    except KeyStoreError as exc:
        fail(str(exc))
    except (hvac.exceptions.VaultError, requests.RequestException) as exc:
        fail(f"the key store refused the token: {type(exc).__name__}")
    finally:
        store.close()
    console.print(f"auth: {settings.vault_auth}; policies: {', '.join(found.get('policies', []))}")
    renewable = "renewable" if found.get("renewable") else "not renewable"
    console.print(f"token: {found.get('ttl')} s left, {renewable}")
