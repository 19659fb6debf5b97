"""What the key store raises: messages name the key and the refusal, never a secret."""


class KeyStoreError(RuntimeError):
    """The key store refused or could not be reached; the message holds no secret."""


class KeyStoreRefused(KeyStoreError):
    """The key store's policy for this process does not allow the operation (HTTP 403)."""


class VaultAuthError(KeyStoreError):
    """Logging in to the key store, or keeping its token fresh, failed."""
