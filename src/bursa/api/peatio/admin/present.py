"""Table rows shaped into the Peatio admin entities."""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bursa.api.peatio import present
from bursa.api.peatio.admin.schemas import (
    Adjustment,
    AdminMember,
    AdminOperation,
    AdminOrder,
    AdminTrade,
    AuditEntry,
)
from bursa.formats import decimal_text, iso
from bursa.identity.directory import Person
from bursa.trading import adjustments

ACCOUNT_KINDS = {
    101: "main",
    102: "main",
    201: "main",
    202: "main",
    211: "locked",
    212: "locked",
    301: "main",
    302: "main",
    401: "main",
    402: "main",
}
ZERO = Decimal(0)

People = Mapping[int, Person]


def _uid(people: People, member_id: int | None) -> str | None:
    person = people.get(member_id) if member_id is not None else None
    return person.uid if person else None


def _email(people: People, member_id: int | None) -> str | None:
    person = people.get(member_id) if member_id is not None else None
    return person.email if person else None


def order(row: Mapping[str, Any], people: People) -> AdminOrder:
    member = row["member_id"]
    return AdminOrder(
        **present.order(row).model_dump(), email=_email(people, member), uid=_uid(people, member)
    )


def trade(row: Mapping[str, Any], people: People) -> AdminTrade:
    maker, taker = row["maker_id"], row["taker_id"]
    base, quote = row["base_unit"], row["quote_unit"]
    taker_buys = row["taker_type"] == "buy"
    return AdminTrade(
        id=row["id"],
        price=decimal_text(row["price"]),
        amount=decimal_text(row["amount"]),
        total=decimal_text(row["total"]),
        market=row["market_id"],
        market_type="spot",
        created_at=iso(row["created_at"]),
        taker_type=row["taker_type"],
        maker_order_email=_email(people, maker),
        maker_uid=_uid(people, maker),
        maker_fee=decimal_text(row["maker_fee"]),
        maker_fee_amount=decimal_text(row["maker_fee_amount"]),
        maker_fee_currency=quote if taker_buys else base,
        taker_order_email=_email(people, taker),
        taker_uid=_uid(people, taker),
        taker_fee=decimal_text(row["taker_fee"]),
        taker_fee_amount=decimal_text(row["taker_fee_amount"]),
        taker_fee_currency=base if taker_buys else quote,
    )


def operation(row: Mapping[str, Any], people: People) -> AdminOperation:
    return AdminOperation(
        id=row["id"],
        code=row["code"],
        currency=row["currency_id"],
        credit=decimal_text(row["credit"]),
        debit=decimal_text(row["debit"]),
        uid=_uid(people, row["member_id"]),
        account_kind=ACCOUNT_KINDS[row["code"]],
        rid=row["reference_id"],
        reference_type=row["reference_type"],
        created_at=iso(row["created_at"]),
    )


def member(
    row: Mapping[str, Any], group: str, accounts: Sequence[Mapping[str, Any]]
) -> AdminMember:
    return AdminMember(
        id=row["id"],
        uid=row["uid"],
        email=row["email"],
        level=row["level"],
        role=row["role"],
        group=group,
        state=row["state"],
        created_at=iso(row["created_at"]),
        updated_at=iso(row["updated_at"]),
        accounts=[present.account(a) for a in accounts],
        beneficiaries=[],
        deposit_addresses=[],
    )


def _preview(row: Mapping[str, Any], code: int, member_uid: str | None) -> AdminOperation:
    """The posting accepting the adjustment will make (the engine posts the same)."""
    amount = row["amount"]
    return AdminOperation(
        id=None,
        code=code,
        currency=row["currency_id"],
        credit=decimal_text(amount if amount > 0 else ZERO),
        debit=decimal_text(-amount if amount < 0 else ZERO),
        uid=member_uid,
        account_kind=ACCOUNT_KINDS[code],
        rid=adjustments.engine_key(row),
        reference_type=adjustments.REFERENCE_TYPE,
        created_at=iso(row["created_at"]),
    )


def adjustment(row: Mapping[str, Any], posted: Sequence[Mapping[str, Any]]) -> Adjustment:
    """``posted``: the engine's postings once accepted (none before)."""
    member_uid = row["receiving_member_uid"]
    people: dict[int, Person] = {}
    if row["receiving_member_id"] is not None and member_uid is not None:
        people[row["receiving_member_id"]] = Person(member_uid, "")
    found = {op["code"]: operation(op, people) for op in posted}
    asset_code, receiving = row["asset_account_code"], row["receiving_account_code"]
    asset = found.get(asset_code)
    liability = found.get(receiving)
    if row["state"] == adjustments.PENDING:
        asset = _preview(row, asset_code, None)
        liability = _preview(row, receiving, member_uid)
    return Adjustment(
        id=row["id"],
        reason=row["reason"],
        description=row["description"],
        category=row["category"],
        amount=decimal_text(row["amount"]),
        currency=row["currency_id"],
        creator_uid=row["creator_uid"],
        validator_uid=row["validator_uid"],
        asset=asset,
        liability=liability,
        revenue=None,  # only member liabilities can be adjusted yet
        expense=None,
        state=row["state"],
        asset_account_code=asset_code,
        receiving_account_code=str(receiving),
        receiving_member_uid=member_uid,
        created_at=iso(row["created_at"]),
        updated_at=iso(row["updated_at"]),
    )


def audit_entry(row: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        actor_uid=row["actor_uid"],
        actor_role=row["actor_role"],
        actor_ip=row["actor_ip"],
        action=row["action"],
        target_type=row["target_type"],
        target_id=row["target_id"],
        before=row["before"],
        after=row["after"],
        created_at=iso(row["created_at"]),
    )
