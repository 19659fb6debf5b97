"""Peatio v2 entities of the member's account and market API. Decimals are strings in
plain notation, times ISO-8601 in UTC."""

from pydantic import BaseModel


class Account(BaseModel):
    """A balance: ``balance`` is available, ``locked`` is held by orders and withdrawals."""

    currency: str
    balance: str
    locked: str


class UserTrade(BaseModel):
    """A trade from the member's side: their ``side``, ``order_id`` and fee (charged in the
    currency received: base for the buyer, quote for the seller)."""

    id: int
    price: str
    amount: str
    total: str
    fee_currency: str
    fee: str  # the rate
    fee_amount: str
    market: str
    market_type: str
    created_at: str
    taker_type: str
    side: str
    order_id: int


class UserOrder(BaseModel):
    """Peatio's Order, plus what Bursa's engine adds: ``client_id``, ``time_in_force``
    (gtc, ioc, fok), ``post_only``, and for trigger orders (``ord_type`` stop_limit or
    stop_market, state ``trigger_wait`` until they fire) ``trigger_price`` and
    ``trigger_condition`` (above, below); ``oco_id`` names the other order of a
    one-cancels-the-other pair."""

    id: int
    uuid: str
    side: str
    ord_type: str
    price: str | None
    avg_price: str
    state: str
    market: str
    market_type: str
    created_at: str
    updated_at: str
    origin_volume: str
    remaining_volume: str
    executed_volume: str
    maker_fee: str
    taker_fee: str
    trades_count: int
    client_id: str | None
    time_in_force: str
    post_only: bool
    trigger_price: str | None = None
    trigger_condition: str | None = None
    oco_id: int | None = None


class UserOrderWithTrades(UserOrder):
    trades: list[UserTrade]


class Operation(BaseModel):
    """One posting to the member's own accounts (Peatio's Operation entity without
    ``uid``): ``account_kind`` main or locked, ``reference_type`` order, trade, deposit,
    withdrawal, adjustment or transfer, ``rid`` the order, trade, deposit, adjustment or
    transfer it is for."""

    id: int
    code: int
    currency: str
    account_kind: str
    credit: str
    debit: str
    reference_type: str
    rid: str
    created_at: str


class Deposit(BaseModel):
    """Peatio's Deposit: ``confirmations`` (an integer, as specified) counts a coin
    deposit's blocks to the last one its scanner read, 0 before it is in a block and for
    fiat. Bursa adds ``min_confirmations``: how many a coin deposit needs to be credited
    (its blockchain's, unless its currency overrides it; null for fiat)."""

    id: int
    currency: str
    blockchain_key: str | None
    amount: str
    fee: str
    txid: str | None
    confirmations: int
    min_confirmations: int | None
    state: str
    transfer_type: str
    created_at: str
    completed_at: str | None
    tid: str


class PaymentAddress(BaseModel):
    """Peatio's PaymentAddress: where the member pays the chain's currencies."""

    currencies: list[str]
    blockchain_key: str
    address: str | None
    state: str  # active (an address is there) | pending


class Transaction(BaseModel):
    """Peatio's Transactions entity: a deposit or a withdrawal (``type`` ``Deposit`` or
    ``Withdraw``); ``address`` is where a deposit was paid or where a withdrawal goes,
    ``note`` a withdrawal's."""

    address: str | None
    currency: str
    amount: str
    fee: str
    txid: str | None
    state: str
    note: str | None
    confirmations: int
    created_at: str
    updated_at: str
    type: str
