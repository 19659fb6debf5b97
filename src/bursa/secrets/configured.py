"""The key store a process's settings ask for."""

from bursa.config.settings import Settings
from bursa.secrets.keystore import KeyStore, LocalKeyStore, TransitKeyStore
from bursa.secrets.vault_auth import AppRoleCredentials


def keystore_from_settings(settings: Settings) -> KeyStore:
    """OpenBao/Vault transit if BURSA_VAULT_URL (a static token, or an AppRole login
    renewed for as long as the process runs), else the local key file."""
    if settings.vault_url is None:
        return LocalKeyStore(settings.local_key_file)
    mount = settings.vault_transit_mount
    if settings.vault_auth == "token":
        assert settings.vault_token is not None  # the settings' validator says so
        token = settings.vault_token.get_secret_value()
        return TransitKeyStore(settings.vault_url, token, mount=mount)
    secret_id = settings.vault_secret_id
    credentials = AppRoleCredentials(
        role_id=settings.vault_role_id,
        role_id_file=settings.vault_role_id_file,
        secret_id=None if secret_id is None else secret_id.get_secret_value(),
        secret_id_file=settings.vault_secret_id_file,
    )
    return TransitKeyStore.with_approle(
        settings.vault_url, credentials, mount=mount, approle_mount=settings.vault_approle_mount
    )
