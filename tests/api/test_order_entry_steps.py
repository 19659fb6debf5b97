"""Placing and cancelling an order resolve what they need in one dependency
(``bursa.api.peatio.market.entry``): the checks still answer in the order the chain of
dependencies answered them, and the limit counts the same requests."""

import httpx

from bursa.identity.limits import InProcessLimiter, Rule
from bursa.secrets.keystore import LocalKeyStore
from tests.api.members import MARKET, assert_error
from tests.api.order_entry import ASK, exchange_with, seller

RULE = Rule("order-entry", 10, window_s=60)
BAD_KEY = {"Idempotency-Key": "bad key!"}


def remaining(response: httpx.Response) -> int:
    return int(response.headers["X-RateLimit-Remaining"])


async def test_checks_answer_in_order_and_refusals_show_the_window(
    fresh_database_url: str, local_keystore: LocalKeyStore
) -> None:
    async with exchange_with(
        fresh_database_url, local_keystore, limiter=InProcessLimiter(), rule=RULE
    ) as exchange:
        alice = await seller(exchange)
        csrf = {"X-CSRF-Token": alice.csrf}

        # Nobody signed in: the authorization step answers before the header and body.
        anonymous = httpx.AsyncClient(transport=exchange.transport, base_url="http://bursa.test")
        exchange.clients.append(anonymous)
        for path in (f"{MARKET}/orders", f"{MARKET}/orders/1/cancel"):
            refused = await anonymous.post(path, json={"side": "up"}, headers=BAD_KEY)
            assert refused.status_code == 401, refused.text
            assert "X-RateLimit-Limit" not in refused.headers

        # A refused header answers alone (the body is not read); fields answer together.
        header = await alice.post(f"{MARKET}/orders", {"side": "up"}, headers=BAD_KEY)
        assert_error(header, 422, "market.order.invalid_idempotency_key")
        fields = await alice.post(f"{MARKET}/orders", {"market": "btcusdt", "side": "up"})
        assert fields.status_code == 422
        assert set(fields.json()["errors"]) == {
            "market.order.invalid_side",
            "market.order.missing_volume",
            "market.order.missing_price",
        }
        assert "X-RateLimit-Limit" not in fields.headers  # not counted

        # Parameters from the query string as from the body; unknown ones refused.
        placed = await alice.client.post(f"{MARKET}/orders", params=ASK, headers=csrf)
        assert placed.status_code == 201, placed.text
        assert placed.json()["state"] == "wait"
        left = remaining(placed)
        unknown = await alice.client.post(
            f"{MARKET}/orders/{placed.json()['id']}/cancel", params={"at": "1"}, headers=csrf
        )
        assert_error(unknown, 422, "server.request.unknown_parameter.at")

        # A refusal of the handler is counted and shows the window.
        missing = await alice.post(f"{MARKET}/orders/999999/cancel")
        assert_error(missing, 404, "record.not_found")
        assert remaining(missing) == left - 1
        bad_id = await alice.post(f"{MARKET}/orders/not-an-id/cancel")
        assert_error(bad_id, 422, "market.order.invaild_id_or_uuid")
        assert remaining(bad_id) == left - 2

        cancelled = await alice.post(f"{MARKET}/orders/{placed.json()['id']}/cancel")
        assert cancelled.status_code == 201, cancelled.text
        assert cancelled.json()["state"] == "cancel"
        assert remaining(cancelled) == left - 3
