"""Key stores: the local key file and a real OpenBao transit engine."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from bursa.secrets.keystore import KeyStore, KeyStoreError, LocalKeyStore, TransitKeyStore
from tests.secrets.bao_server import running_bao


@pytest.fixture(scope="module")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real OpenBao dev server with the transit engine enabled: (url, token)."""
    with running_bao(tmp_path_factory.mktemp("bao"), audited=False) as bao:
        bao.root().sys.enable_secrets_engine("transit", path="transit")
        yield bao.url, bao.root_token


async def round_trip(store: KeyStore) -> None:
    secret = b"JBSWY3DPEHPK3PXP-seed"
    sealed = await store.encrypt("bursa-test", secret)
    assert secret not in sealed.encode()
    assert await store.decrypt("bursa-test", sealed) == secret
    assert await store.encrypt("bursa-test", secret) != sealed  # fresh nonce every time
    with pytest.raises(KeyStoreError):
        await store.decrypt("another-purpose", sealed)


async def batch_round_trip(store: KeyStore) -> None:
    """Several values in one call come back in order, each also opens on its own."""
    values = [b"Ada", b"Lovelace", b"1815-12-10", "Zürich".encode()]
    sealed = await store.encrypt_many("bursa-test", values)
    assert len(sealed) == len(values)
    assert all(value not in item.encode() for value, item in zip(values, sealed, strict=True))
    assert await store.decrypt_many("bursa-test", sealed) == values
    assert await store.decrypt("bursa-test", sealed[1]) == b"Lovelace"
    assert await store.encrypt_many("bursa-test", []) == []
    assert await store.decrypt_many("bursa-test", []) == []
    with pytest.raises(KeyStoreError):
        await store.decrypt_many("another-purpose", sealed)
    with pytest.raises(KeyStoreError):
        await store.decrypt_many("bursa-test", [sealed[0], sealed[1][:-8] + "AAAAAAAA"])


async def test_local_key_store(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "master.key"
    store = LocalKeyStore(key_file)
    await round_trip(store)
    await batch_round_trip(store)
    assert key_file.stat().st_mode & 0o777 == 0o600
    sealed = await store.encrypt("bursa-test", b"x")
    assert await LocalKeyStore(key_file).decrypt("bursa-test", sealed) == b"x"  # reopened
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(KeyStoreError):
        await store.decrypt("bursa-test", tampered)


def test_local_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    LocalKeyStore(key_file)
    key_file.chmod(0o644)
    with pytest.raises(KeyStoreError, match="chmod 600"):
        LocalKeyStore(key_file)


async def test_openbao_transit_key_store(openbao: tuple[str, str]) -> None:
    url, token = openbao
    store = TransitKeyStore(url, token)
    await round_trip(store)
    await batch_round_trip(store)
    sealed = await store.encrypt("bursa-test", b"seed")
    assert sealed.startswith("vault:v1:")
    with pytest.raises(KeyStoreError) as refused:
        await TransitKeyStore(url, "not-the-token").decrypt("bursa-test", sealed)
    assert "not-the-token" not in str(refused.value)
    assert token not in str(refused.value)
