"""Airdrops (the admin API's ``POST airdrops``): a CSV of ``uid``, ``currency_id`` (or
``currency``) and ``amount`` rows, each crediting a member from the platform.

The money moves as one engine ``Transfer`` (``trading.management_transfers``, category
``airdrop``): per row the platform's revenue account of the currency (301 fiat, 302 coin)
gives the amount to the member's main account (201/202), so the books stay balanced
(revenues − x, liabilities + x) and the platform pays out of what it earned. (The
engine's transfers move between accounts on one side of the equation; crediting a member
from expenses or against new assets is not one of them, and an asset the platform does
not hold would show as a difference on the solvency view.) Every row is checked before
anything moves: a member, a currency, an amount the currency can hold; the first bad one
refuses the file with its code and its line (``admin.airdrop.line_N``), nothing changed.
All rows move together or none (one command, at most ``MOST_ROWS`` legs).

Idempotent: the transfer's key is the digest of the rows as read, so the same file sent
again (or the same rows in another file) answers the airdrop it made and moves nothing;
a crash mid-way is finished by sending it again (the money workflow's recovery).
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bursa.custody import csv_uploads
from bursa.engine.specs import LIABILITY_MAIN, REVENUE
from bursa.engine.units import OverPrecise, to_units
from bursa.errors import BursaError, Refusal
from bursa.formats import decimal_text
from bursa.identity import directory
from bursa.plain_input import NotPlain, parse_amount
from bursa.trading import admin_queries as queries
from bursa.trading import audit, management_transfers, transfers
from bursa.trading.audit import Actor
from bursa.trading.engine_requests import Submit

AREA = "admin.airdrop"
MOST_ROWS = 100  # the engine's most legs in one Transfer
MOST_DIGITS = 30  # of an amount's integer part
CATEGORY = "airdrop"
DESCRIPTION = "admin airdrop"


@dataclass(frozen=True, slots=True)
class Airdrop:
    key: str
    state: str  # done
    rows: int
    created: bool  # False: these rows were airdropped before, nothing moved now


def _refused(code: str, line: int) -> BursaError:
    return BursaError(Refusal.INVALID, f"{AREA}.{code}", f"{AREA}.line_{line}")


async def _operations(
    session: AsyncSession, lines: list[csv_uploads.Line]
) -> list[management_transfers.Operation]:
    operations = []
    for line in lines:
        uid = line.values.get("uid", "")
        code = (line.values.get("currency_id") or line.values.get("currency") or "").lower()
        if not uid or len(uid) > 32 or await directory.member_id(session, uid=uid) is None:
            raise _refused("member_doesnt_exist", line.number)
        currency = await queries.currency(session, code) if 0 < len(code) <= 10 else None
        if currency is None:
            raise _refused("currency_doesnt_exist", line.number)
        try:
            amount = parse_amount(line.values.get("amount", ""))
            to_units(amount, currency["precision"])
        except (NotPlain, OverPrecise):
            raise _refused("invalid_amount", line.number) from None
        if amount <= 0 or amount.adjusted() >= MOST_DIGITS:
            raise _refused("invalid_amount", line.number)
        kind = currency["type"]
        operations.append(
            management_transfers.Operation(
                currency=currency["id"],
                amount=amount,
                account_src=management_transfers.Account(REVENUE[kind]),
                account_dst=management_transfers.Account(LIABILITY_MAIN[kind], uid),
            )
        )
    return operations


def _key(operations: list[management_transfers.Operation]) -> str:
    rows = [[o.account_dst.uid, o.currency, decimal_text(o.amount) or ""] for o in operations]
    digest = hashlib.sha256(json.dumps(rows).encode()).hexdigest()
    return f"airdrop:{digest[:22]}"  # 30 characters: a transfer key's most


async def _member_of(session: AsyncSession, uid: str) -> int | None:
    return await directory.member_id(session, uid=uid)


async def airdrop(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    submit: Submit,
    actor: Actor,
    content: bytes,
) -> Airdrop:
    """Credit the rows of the CSV ``content``; the airdrop made (or made before).
    ``sessions`` gives the money workflow its own transactions; the audit entry goes in
    ``session``'s (the request's)."""
    lines = csv_uploads.read(content, AREA, ("uid", "amount"))
    if len(lines) > MOST_ROWS:
        raise BursaError(Refusal.INVALID, f"{AREA}.too_many_rows")
    operations = await _operations(session, lines)
    key = _key(operations)
    async with sessions() as own:
        before = await transfers.find(own, key)
        await own.commit()
        ask = management_transfers.TransferAsk(key, CATEGORY, DESCRIPTION, operations)
        row = await management_transfers.post(own, submit, _member_of, ask)
    created = before is None or before["state"] != transfers.DONE
    done = Airdrop(key=row["key"], state=row["state"], rows=len(operations), created=created)
    if created:
        shown: dict[str, Any] = {
            "key": done.key,
            "rows": [
                {"uid": o.account_dst.uid, "currency": o.currency, "amount": decimal_text(o.amount)}
                for o in operations
            ],
        }
        await audit.record(session, actor, "airdrop.create", "Airdrop", done.key, after=shown)
    return done
