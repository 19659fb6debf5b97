"""The plugin contract's value objects and the entry point lookup."""

from decimal import Decimal

import pytest

from bursa.custody.chain import ChainCurrency, UnknownClient, plugin_factory


def test_chain_amounts_convert_exactly_or_not_at_all() -> None:
    eth = ChainCurrency("eth", 18)
    assert eth.to_units(Decimal("1.5")) == 1_500_000_000_000_000_000
    assert eth.to_decimal(1) == Decimal("1E-18")
    usdt = ChainCurrency("usdt", 6, contract="0xabc")
    assert usdt.to_decimal(usdt.to_units(Decimal("12.345678"))) == Decimal("12.345678")
    with pytest.raises(ValueError, match="more than 6 decimals"):
        usdt.to_units(Decimal("0.0000001"))


def test_an_unknown_client_names_the_installed_ones() -> None:
    with pytest.raises(UnknownClient, match="no blockchain plugin named 'dogecoin'"):
        plugin_factory("dogecoin")
