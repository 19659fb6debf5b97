"""Peatio v2 admin entities (Swagger ``Admin`` definitions), and Bursa's additions: the
ledger verification and the audit log. Decimals are strings in plain notation, times
ISO-8601 in UTC; a member the identity service does not know shows no uid or email."""

from typing import Any

from pydantic import BaseModel

from bursa.api.peatio.schemas import Account, UserOrder


class Abilities(BaseModel):
    """The records the caller's role may read and may change (Peatio's abilities)."""

    read: list[str]
    manage: list[str]


class AdminOrder(UserOrder):
    email: str | None
    uid: str | None


class AdminTrade(BaseModel):
    """A trade with both sides: who made and took it, their fee rates, amounts and
    currencies (the buyer pays in base, the seller in quote)."""

    id: int
    price: str
    amount: str
    total: str
    market: str
    market_type: str
    created_at: str
    taker_type: str
    maker_order_email: str | None
    maker_uid: str | None
    maker_fee: str
    maker_fee_amount: str
    maker_fee_currency: str
    taker_order_email: str | None
    taker_uid: str | None
    taker_fee: str
    taker_fee_amount: str
    taker_fee_currency: str


class AdminTradeWithOrders(AdminTrade):
    maker_order: AdminOrder
    taker_order: AdminOrder


class AdminOperation(BaseModel):
    """One posting of the ledger. ``uid`` is the member's for liabilities, none for the
    platform's accounts; an adjustment not yet accepted shows the postings it will make,
    without an ``id``."""

    id: int | None
    code: int
    currency: str
    credit: str
    debit: str
    uid: str | None
    account_kind: str
    rid: str
    reference_type: str
    created_at: str


class AdminMember(BaseModel):
    """A member (every Barong user is one; ``id`` is the engine's member id), their fee
    group and the accounts they hold."""

    id: int
    uid: str
    email: str
    level: int
    role: str
    group: str
    state: str
    created_at: str
    updated_at: str
    accounts: list[Account]
    beneficiaries: list[Any]
    deposit_addresses: list[Any]


class Adjustment(BaseModel):
    """Peatio's adjustment: ``amount`` signed, credited (or debited) to the receiving
    account and to the asset account alike; ``validator_uid`` is who accepted or rejected
    it."""

    id: int
    reason: str
    description: str
    category: str
    amount: str
    currency: str
    creator_uid: str
    validator_uid: str | None
    asset: AdminOperation | None
    liability: AdminOperation | None
    revenue: AdminOperation | None
    expense: AdminOperation | None
    state: str
    asset_account_code: int
    receiving_account_code: str
    receiving_member_uid: str | None
    created_at: str
    updated_at: str


class CurrencyTotals(BaseModel):
    currency: str
    assets: str
    liabilities: str
    revenues: str
    expenses: str


class LedgerProblem(BaseModel):
    """One broken invariant: what was expected and what was found."""

    check: str
    currency: str
    member_id: int | None
    expected: str
    found: str


class LedgerVerification(BaseModel):
    """``bursa ledger verify`` over HTTP: every invariant, in one read-only snapshot."""

    ok: bool
    checked_at: str
    accounts_checked: int
    totals: list[CurrencyTotals]
    problems: list[LedgerProblem]


class AuditEntry(BaseModel):
    """A change made through the admin API: who, from where, and the record before and
    after it (as JSON; none where there was no record before, or none after)."""

    id: int
    actor_uid: str
    actor_role: str
    actor_ip: str
    action: str
    target_type: str
    target_id: str
    before: Any
    after: Any
    created_at: str
