"""The Peatio admin lists' ``ordering``, ``order_by`` and ``range`` over HTTP: every list
the Swagger gives them takes them, an unknown column or range is refused (422)."""

from tests.api.members import (
    Exchange,
    assert_error,
    exchange,  # noqa: F401 - fixture
)

ADMIN = "/api/v2/peatio/admin"


async def test_admin_lists_order_and_refuse_unknown_columns(exchange: Exchange) -> None:
    admin = await exchange.member("root@example.com", role="superadmin")

    ascending = await admin.get(f"{ADMIN}/currencies", order_by="id")
    descending = await admin.get(f"{ADMIN}/currencies", order_by="id", ordering="desc")
    assert ascending.status_code == descending.status_code == 200, descending.text
    codes = [c["id"] for c in ascending.json()]
    assert codes == sorted(codes) and len(codes) > 1
    assert [c["id"] for c in descending.json()] == codes[::-1]

    markets = await admin.get(f"{ADMIN}/markets", order_by="id", ordering="desc")
    symbols = [m["id"] for m in markets.json()]
    assert symbols == sorted(symbols, reverse=True)

    for path in (
        "currencies",
        "markets",
        "trading_fees",
        "withdraw_limits",
        "blockchains",
        "wallets",
        "deposits",
        "withdraws",
        "orders",
        "trades",
        "members",
        "assets",
        "internal_transfers",
    ):
        listed = await admin.get(f"{ADMIN}/{path}", ordering="desc", page=1, limit=5)
        assert listed.status_code == 200, (path, listed.text)
        assert listed.headers["Per-Page"] == "5"
        unknown = await admin.get(f"{ADMIN}/{path}", order_by="secret")
        assert_error(unknown, 422, "admin.pagination.invalid_order_by")
        wrong = await admin.get(f"{ADMIN}/{path}", ordering="sideways")
        assert_error(wrong, 422, "admin.pagination.invalid_ordering")

    # ``completed``: on records that complete; refused where nothing completes
    for path in ("deposits", "withdraws"):
        done = await admin.get(f"{ADMIN}/{path}", range="completed", **{"from": 0})
        assert done.status_code == 200, (path, done.text)
    for path in ("orders", "trades", "members", "assets", "adjustments", "internal_transfers"):
        refused = await admin.get(f"{ADMIN}/{path}", range="completed")
        assert_error(refused, 422, "admin.filter.invalid_range")
    assert_error(
        await admin.get(f"{ADMIN}/orders", range="someday"), 422, "admin.filter.invalid_range"
    )
