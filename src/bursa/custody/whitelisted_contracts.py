"""Peatio's whitelisted smart contracts (the admin API's ``whitelisted_smart_contracts``):
contracts of a blockchain that admins vouch for, one row per (blockchain, address).

What Peatio used them for: its Ethereum adapter fetched receipts only for transactions
sent to known token contracts, to its own wallets, or to whitelisted contracts, so a token
paid to a member through another contract (a batch sender, a DEX router) was found only if
that contract was whitelisted. Bursa's Ethereum plugin needs no such list: it reads every
token ``Transfer`` log of a block (``eth_getLogs`` by block hash) whatever contract the
transaction called, so such deposits are found anyway. The list is therefore kept and
served for OpenDAX clients and operators, and no scanner reads it.

Addresses on an Ethereum chain are ``0x`` and 40 hex digits, stored lower-case (as every
address custody keeps for Ethereum); on other chains printable text without spaces. A
change and its audit entry are the request's one transaction; a CSV import checks every
row before it adds any, and adds what is not listed yet.
"""

import re
from dataclasses import dataclass
from typing import Any, TypedDict

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bursa.custody import csv_uploads
from bursa.custody.registry import CONTRACT
from bursa.custody.tables import blockchains
from bursa.custody.tables import whitelisted_smart_contracts as contracts
from bursa.db.pages import Page, page_of
from bursa.errors import BursaError, Refusal
from bursa.formats import iso
from bursa.trading import audit
from bursa.trading.audit import Actor
from bursa.trading.config_changes import NOT_FOUND

AREA = "admin.whitelisted_smart_contract"
ADDRESS_AREA = "admin.whitelisted_address"  # Peatio's codes for the fields
CHAIN_NOT_FOUND = f"{ADDRESS_AREA}.blockchain_key_doesnt_exist"
INVALID_ADDRESS = f"{ADDRESS_AREA}.invalid_address"
ADDRESS_TAKEN = f"{ADDRESS_AREA}.address_taken"
TARGET = "WhitelistedSmartContract"
STATES = ("active", "disabled")
ORDER_BY = ("id", "blockchain_key", "address", "state", "created_at", "updated_at")
OTHER_ADDRESS = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no spaces


class ContractFields(TypedDict, total=False):
    blockchain_key: str
    address: str
    description: str
    state: str


@dataclass(frozen=True, slots=True)
class NewContract:
    blockchain_key: str
    address: str
    description: str = ""
    state: str = "active"


def view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "blockchain_key": row["blockchain_key"],
        "address": row["address"],
        "description": row["description"],
        "state": row["state"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


async def listed(
    session: AsyncSession,
    *,
    blockchain_key: str | None,
    order_by: str,
    ascending: bool,
    limit: int,
    page: int,
) -> Page:
    """The contracts (of one blockchain if given) in the order asked, then by id."""
    query = select(contracts)
    if blockchain_key is not None:
        query = query.where(contracts.c.blockchain_key == blockchain_key)
    column = contracts.c[order_by]
    ordered = [column.asc() if ascending else column.desc(), contracts.c.id.asc()]
    return await page_of(session, query.order_by(*ordered), limit, page)


async def find(session: AsyncSession, contract_id: int) -> Any:
    query = select(contracts).where(contracts.c.id == contract_id)
    row = (await session.execute(query)).mappings().first()
    if row is None:
        raise BursaError(Refusal.NOT_FOUND, NOT_FOUND)
    return row


async def _address(session: AsyncSession, blockchain_key: str, address: str) -> str:
    """``address`` as stored on ``blockchain_key``; refused when no such chain or no such
    address there."""
    query = select(blockchains.c.client).where(blockchains.c.key == blockchain_key)
    client = (await session.execute(query)).scalar_one_or_none()
    if client is None:
        raise BursaError(Refusal.INVALID, CHAIN_NOT_FOUND)
    if client == "ethereum":
        if not CONTRACT.match(address):
            raise BursaError(Refusal.INVALID, INVALID_ADDRESS)
        return address.lower()
    if not OTHER_ADDRESS.match(address):
        raise BursaError(Refusal.INVALID, INVALID_ADDRESS)
    return address


async def create(session: AsyncSession, actor: Actor, new: NewContract) -> Any:
    """Add ``new``; refused when the chain lists that address already."""
    address = await _address(session, new.blockchain_key, new.address)
    inserted = await session.execute(
        insert(contracts)
        .values(
            blockchain_key=new.blockchain_key,
            address=address,
            description=new.description,
            state=new.state,
        )
        .on_conflict_do_nothing()
        .returning(contracts)
    )
    row = inserted.mappings().first()
    if row is None:
        raise BursaError(Refusal.INVALID, ADDRESS_TAKEN)
    await audit.record(
        session, actor, "whitelisted_contract.create", TARGET, row["id"], after=view(row)
    )
    return row


async def change(
    session: AsyncSession, actor: Actor, contract_id: int, fields: ContractFields
) -> Any:
    """Change ``fields`` of contract ``contract_id``; its row after."""
    before = await find(session, contract_id)
    values: dict[str, Any] = dict(fields)
    key = values.get("blockchain_key", before["blockchain_key"])
    if "address" in values or "blockchain_key" in values:
        values["address"] = await _address(session, key, values.get("address", before["address"]))
        taken = await session.execute(
            select(contracts.c.id).where(
                contracts.c.blockchain_key == key,
                contracts.c.address == values["address"],
                contracts.c.id != contract_id,
            )
        )
        if taken.first() is not None:
            raise BursaError(Refusal.INVALID, ADDRESS_TAKEN)
    if values:
        await session.execute(
            update(contracts)
            .where(contracts.c.id == contract_id)
            .values(**values, updated_at=func.now())
        )
    after = await find(session, contract_id)
    await audit.record(
        session,
        actor,
        "whitelisted_contract.update",
        TARGET,
        contract_id,
        before=view(before),
        after=view(after),
    )
    return after


async def import_csv(session: AsyncSession, actor: Actor, content: bytes) -> list[Any]:
    """Add every row of the CSV ``content`` not listed yet (columns ``blockchain_key``,
    ``address``, optional ``description`` and ``state``); every row is checked first,
    and a bad one refuses the file with its code and ``{AREA}.line_N``. The rows added,
    in file order."""
    checked: list[NewContract] = []
    for line in csv_uploads.read(content, AREA, ("blockchain_key", "address")):
        key = line.values["blockchain_key"].lower()
        state = line.values.get("state") or "active"
        description = line.values.get("description", "")
        if state not in STATES or len(description) > 255:
            raise csv_uploads.refused_line(AREA, "invalid_row", line.number)
        try:
            address = await _address(session, key, line.values["address"])
        except BursaError as exc:
            raise BursaError(exc.kind, *exc.codes, f"{AREA}.line_{line.number}") from None
        checked.append(NewContract(key, address, description, state))
    added = []
    for new in dict.fromkeys(checked):
        inserted = await session.execute(
            insert(contracts)
            .values(
                blockchain_key=new.blockchain_key,
                address=new.address,
                description=new.description,
                state=new.state,
            )
            .on_conflict_do_nothing()
            .returning(contracts)
        )
        row = inserted.mappings().first()
        if row is not None:
            added.append(row)
    await audit.record(
        session,
        actor,
        "whitelisted_contract.import",
        TARGET,
        "csv",
        after=[view(row) for row in added],
    )
    return added
