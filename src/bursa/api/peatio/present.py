"""Table rows of the member's records shaped into the Peatio entities."""

from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Any

from bursa.api.peatio.schemas import (
    Account,
    Deposit,
    Operation,
    Transaction,
    UserOrder,
    UserTrade,
)
from bursa.custody import member_transactions
from bursa.formats import decimal_text, iso
from bursa.trading.order_view import OrderView

BUY = "buy"
ACCOUNT_KINDS = {201: "main", 202: "main", 211: "locked", 212: "locked"}


def account(row: Mapping[str, Any]) -> Account:
    return Account(
        currency=row["currency"],
        balance=decimal_text(row["balance"]),
        locked=decimal_text(row["locked"]),
    )


def order(found: OrderView | Mapping[str, Any]) -> UserOrder:
    """A member's order in Peatio's shape (a table row is read as its ``OrderView``)."""
    view = found if isinstance(found, OrderView) else OrderView.of(found)
    average = view.avg_price
    if average is None:
        average = Decimal(0)
    else:  # rounded down to the market's price precision, as Peatio shows it
        average = average.quantize(Decimal(1).scaleb(-view.price_precision), ROUND_DOWN)
    return UserOrder(
        id=view.id,
        uuid=view.uuid,
        side=view.side,
        ord_type=view.ord_type,
        price=decimal_text(view.price) if view.price is not None else None,
        avg_price=decimal_text(average),
        state=view.state,
        market=view.market_id,
        market_type="spot",
        created_at=iso(view.created_at),
        updated_at=iso(view.updated_at),
        origin_volume=decimal_text(view.origin_volume),
        remaining_volume=decimal_text(view.volume),
        executed_volume=decimal_text(view.origin_volume - view.volume),
        maker_fee=decimal_text(view.maker_fee),
        taker_fee=decimal_text(view.taker_fee),
        trades_count=view.trades_count,
        client_id=view.client_id,
        time_in_force=view.time_in_force.lower(),
        post_only=view.post_only,
        trigger_price=decimal_text(view.trigger_price) if view.trigger_price is not None else None,
        trigger_condition=view.trigger_condition,
        oco_id=view.oco_id,
    )


def trade(row: Mapping[str, Any]) -> UserTrade:
    return UserTrade(
        id=row["id"],
        price=decimal_text(row["price"]),
        amount=decimal_text(row["amount"]),
        total=decimal_text(row["total"]),
        fee_currency=row["base_unit"] if row["side"] == BUY else row["quote_unit"],
        fee=decimal_text(row["fee"]),
        fee_amount=decimal_text(row["fee_amount"]),
        market=row["market_id"],
        market_type="spot",
        created_at=iso(row["created_at"]),
        taker_type=row["taker_type"],
        side=row["side"],
        order_id=row["order_id"],
    )


def operation(row: Mapping[str, Any]) -> Operation:
    return Operation(
        id=row["id"],
        code=row["code"],
        currency=row["currency_id"],
        account_kind=ACCOUNT_KINDS[row["code"]],
        credit=decimal_text(row["credit"]),
        debit=decimal_text(row["debit"]),
        reference_type=row["reference_type"],
        rid=row["reference_id"],
        created_at=iso(row["created_at"]),
    )


def deposit(
    row: Mapping[str, Any], heights: Mapping[str, int], required: Mapping[str, int]
) -> Deposit:
    """A row of ``deposits``; ``heights``: the last block read on each blockchain;
    ``required``: the confirmations each currency's deposits need."""
    coin = row["type"] == "coin"
    height = heights.get(row["blockchain_key"]) if coin else None
    confirmations = member_transactions.confirmations(row["block_number"], height)
    return Deposit(
        id=row["id"],
        currency=row["currency_id"],
        blockchain_key=row["blockchain_key"],
        amount=decimal_text(row["amount"]),
        fee=decimal_text(row["fee"]),
        txid=row["txid"],
        confirmations=confirmations,
        min_confirmations=required.get(row["currency_id"]) if coin else None,
        state=row["state"],
        transfer_type=row["transfer_type"],
        created_at=iso(row["created_at"]),
        completed_at=None if row["completed_at"] is None else iso(row["completed_at"]),
        tid=row["tid"],
    )


def transaction(found: member_transactions.Transaction) -> Transaction:
    """A deposit or withdrawal in Peatio's Transactions shape."""
    return Transaction(
        address=found.address,
        currency=found.currency,
        amount=decimal_text(found.amount),
        fee=decimal_text(found.fee),
        txid=found.txid,
        state=found.state,
        note=found.note,
        confirmations=found.confirmations,
        created_at=iso(found.created_at),
        updated_at=iso(found.updated_at),
        type=found.type,
    )
