"""The Peatio admin API's custody (``/api/v2/peatio/admin``): blockchains, wallets, the
sweeps custody made or proposes (``/wallets/sweeps``) and the solvency view
(``/wallets/overview``): under ``/wallets`` so Barong's permissions on wallets cover them.

What is shown never holds a secret: a blockchain's node URL (it may carry credentials) and
a wallet's key are left out of every answer and every audit entry. Creating and changing
go through ``bursa.custody.setup`` (the ``bursa custody`` commands' code), so keys are
made by the chain's plugin and sealed at once.
"""

import logging
import re
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.sql import func

from bursa.api.deps import Session
from bursa.api.errors import NOT_FOUND, ApiError
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.lists import AdminList
from bursa.api.peatio.params import paginate, read_body
from bursa.api.schemas import Errors
from bursa.custody import network_fee_tables as fee_table
from bursa.custody import network_fees, setup
from bursa.custody.addresses import Plugins
from bursa.custody.solvency import solvency
from bursa.custody.sweep_tables import DISMISSED, PROPOSED, sweeps
from bursa.custody.tables import WALLET_KINDS, blockchains, wallet_currencies, wallets
from bursa.db.pages import page_of
from bursa.plain_input import NotPlain, PlainInt, is_digits, parse_digits, read_amount
from bursa.trading import audit
from bursa.trading.audit import Actor

router = APIRouter(prefix=PREFIX, tags=["peatio admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422)
}
BLOCKCHAIN, WALLET = "admin.blockchain", "admin.wallet"
STATUSES = ("active", "disabled")
MOST_ID = 2**63 - 1
MOST_CONFIRMATIONS = 10_000  # far beyond any chain's need; keeps within an INTEGER
MOST_DIGITS = 22  # of a max_balance's integer part: NUMERIC(40, 18)
KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
log = logging.getLogger(__name__)

ReadChain = Annotated[Actor, Depends(admin_gate("read", "Blockchain"))]
ManageChain = Annotated[Actor, Depends(admin_gate("manage", "Blockchain"))]
ReadWallet = Annotated[Actor, Depends(admin_gate("read", "Wallet"))]
ManageWallet = Annotated[Actor, Depends(admin_gate("manage", "Wallet"))]


class AdminBlockchain(BaseModel):
    id: str  # Bursa's blockchains are keyed by ``key``; Peatio's ``id`` is the same
    key: str
    name: str
    client: str
    height: int
    min_confirmations: int
    protocol: str
    explorer_address: str
    explorer_transaction: str
    status: str
    created_at: str
    updated_at: str


class AdminWallet(BaseModel):
    id: int
    name: str
    kind: str
    blockchain_key: str
    currencies: list[str]
    address: str | None
    max_balance: str
    status: str
    created_at: str
    updated_at: str


class AdminSweep(BaseModel):
    id: int
    blockchain_key: str
    kind: str
    currency: str
    from_address: str
    to_address: str
    to_wallet_id: int | None
    amount: str
    fee: str
    txid: str | None
    deposit_ids: list[int]
    state: str
    error: str | None
    created_at: str
    updated_at: str


class AdminNetworkFee(BaseModel):
    """A network fee a Bursa wallet paid (or will: ``actual`` is null until its
    transaction is mined), as booked in the ledger's expenses."""

    id: int
    blockchain_key: str
    currency: str  # the chain's coin, which pays every fee on it
    txid: str
    source: str  # sweep | withdraw
    source_id: int  # the sweep's or the withdrawal's id
    reference: str  # the postings' rid in admin/expenses
    estimated: str  # at signing
    actual: str | None  # once mined (0: declared lost, never mined)
    booked: str  # the ledger's expense for it now
    sent_key: str  # the engine keys of the booking and of the correction at mining
    mined_key: str | None
    state: str  # recorded | booked | settled | refused
    error: str | None
    created_at: str
    updated_at: str


class CurrencySolvency(BaseModel):
    currency: str
    blockchain_key: str
    addresses: int
    on_chain: str | None  # null: the node did not answer
    liabilities: str
    assets: str
    difference: str | None  # on chain minus the ledger's assets: 0 when they agree
    reserve: str | None  # on chain minus liabilities: below 0, members cannot all be paid
    status: str  # ok | mismatch (difference not 0) | short (reserve below 0) | unavailable


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _chain(row: Any) -> AdminBlockchain:
    return AdminBlockchain(
        id=row["key"],
        key=row["key"],
        name=row["name"],
        client=row["client"],
        height=row["height"],
        min_confirmations=row["min_confirmations"],
        protocol=row["protocol"],
        explorer_address=row["explorer_address"],
        explorer_transaction=row["explorer_transaction"],
        status=row["status"],
        created_at=_time(row["created_at"]),
        updated_at=_time(row["updated_at"]),
    )


def _wallet(row: Any, held: list[str]) -> AdminWallet:
    return AdminWallet(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        blockchain_key=row["blockchain_key"],
        currencies=held,
        address=row["address"],
        max_balance=_text(row["max_balance"]),
        status=row["status"],
        created_at=_time(row["created_at"]),
        updated_at=_time(row["updated_at"]),
    )


def _sweep(row: Any) -> AdminSweep:
    return AdminSweep(
        id=row["id"],
        blockchain_key=row["blockchain_key"],
        kind=row["kind"],
        currency=row["currency_id"],
        from_address=row["from_address"],
        to_address=row["to_address"],
        to_wallet_id=row["to_wallet_id"],
        amount=_text(row["amount"]),
        fee=_text(row["fee"]),
        txid=row["txid"],
        deposit_ids=list(row["deposit_ids"]),
        state=row["state"],
        error=row["error"],
        created_at=_time(row["created_at"]),
        updated_at=_time(row["updated_at"]),
    )


def _fee(row: Any) -> AdminNetworkFee:
    return AdminNetworkFee(
        id=row["id"],
        blockchain_key=row["blockchain_key"],
        currency=row["currency_id"],
        txid=row["txid"],
        source=row["source"],
        source_id=row["source_id"],
        reference=network_fees.reference(row["source"], row["source_id"]),
        estimated=_text(row["estimated"]),
        actual=None if row["actual"] is None else _text(row["actual"]),
        booked=_text(row["booked"]),
        sent_key=network_fees.sent_key(row["id"]),
        mined_key=None if row["actual"] is None else network_fees.mined_key(row["id"]),
        state=row["state"],
        error=row["error"],
        created_at=_time(row["created_at"]),
        updated_at=_time(row["updated_at"]),
    )


def _page(response: Response, rows: list[Any], params: AdminList) -> list[Any]:
    paginate(response, len(rows), params.page, params.limit)
    start = (params.page - 1) * params.limit
    return rows[start : start + params.limit]


def _plugins(request: Request) -> Plugins:
    plugins: Plugins = request.app.state.custody
    return plugins


# ---------------------------------------------------------------------- blockchains


@router.get("/blockchains", summary="Blockchains", responses=_ERRORS)
async def list_blockchains(
    _: ReadChain, session: Session, response: Response, params: Annotated[AdminList, Depends()]
) -> list[AdminBlockchain]:
    rows = list((await session.execute(select(blockchains).order_by(blockchains.c.key))).mappings())
    if params.ordering == "desc":
        rows.reverse()
    return [_chain(r) for r in _page(response, rows, params)]


async def _find_chain(session: Session, key: str) -> Any:
    query = select(blockchains).where(blockchains.c.key == key)
    row = (await session.execute(query)).mappings().first()
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return row


@router.get("/blockchains/{key}", summary="One blockchain", responses=_ERRORS)
async def get_blockchain(
    _: ReadChain, session: Session, key: Annotated[str, Path(max_length=32)]
) -> AdminBlockchain:
    return _chain(await _find_chain(session, key))


def _body(raw: dict[str, Any], area: str) -> dict[str, Any]:
    """The request's fields, refusing text PostgreSQL cannot hold (a NUL character)."""
    bad = [
        f"{area}.invalid_{name}"
        for name, value in raw.items()
        if "\x00" in (value if isinstance(value, str) else str(value))
    ]
    if bad:
        raise ApiError(422, *bad)
    return raw


def _required_text(body: dict[str, Any], name: str, most: int, problems: list[str]) -> str:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.append(f"{BLOCKCHAIN}.missing_{name}")
        return ""
    if not isinstance(value, str) or len(value.strip()) > most or "\x00" in value:
        problems.append(f"{BLOCKCHAIN}.invalid_{name}")
        return ""
    return value.strip()


def _whole(body: dict[str, Any], name: str, default: int, area: str, problems: list[str]) -> int:
    value = body.get(name, default)
    if isinstance(value, bool):
        problems.append(f"{area}.non_integer_{name}")
    elif isinstance(value, int) and 0 <= value <= MOST_ID:
        return value
    elif isinstance(value, str) and is_digits(value) and len(value) <= 18:
        return parse_digits(value)
    else:
        problems.append(f"{area}.non_integer_{name}")
    return default


@router.post("/blockchains/new", status_code=201, summary="Add a blockchain", responses=_ERRORS)
async def new_blockchain(actor: ManageChain, request: Request, session: Session) -> AdminBlockchain:
    """Form or JSON: ``key``, ``name``, ``client`` (the plugin: ethereum, bitcoin, ...),
    ``server`` (the node's URL, sealed, never shown again), ``min_confirmations``,
    ``height`` (the first block the scanner reads)."""
    body = _body(await read_body(request), BLOCKCHAIN)
    problems: list[str] = []
    key = _required_text(body, "key", 32, problems)
    if key and not KEY_PATTERN.fullmatch(key):
        problems.append(f"{BLOCKCHAIN}.invalid_key")
        key = ""
    name = _required_text(body, "name", 64, problems)
    client = _required_text(body, "client", 32, problems)
    server = _required_text(body, "server", 2048, problems)
    if server and "://" not in server:
        problems.append(f"{BLOCKCHAIN}.invalid_server")
    confirmations = _whole(body, "min_confirmations", 6, BLOCKCHAIN, problems)
    if not 1 <= confirmations <= MOST_CONFIRMATIONS:
        problems.append(f"{BLOCKCHAIN}.invalid_min_confirmations")
    height = _whole(body, "height", 0, BLOCKCHAIN, problems)
    if (
        key
        and (
            await session.execute(select(blockchains.c.key).where(blockchains.c.key == key))
        ).first()
    ):
        problems.append(f"{BLOCKCHAIN}.key_taken")
    if problems:
        raise ApiError(422, *dict.fromkeys(problems))
    new = setup.NewBlockchain(key, name, client, server, confirmations, height)
    try:
        await setup.add_blockchain(session, _plugins(request).keystore, new)
    except setup.SetupRefused as exc:
        raise ApiError(422, exc.code) from exc
    shown = _chain(await _find_chain(session, key))
    await audit.record(
        session, actor, "blockchain.create", "Blockchain", key, after=shown.model_dump()
    )
    await session.commit()
    return shown


@router.post(
    "/blockchains/update", status_code=201, summary="Change a blockchain", responses=_ERRORS
)
async def update_blockchain(
    actor: ManageChain, request: Request, session: Session
) -> AdminBlockchain:
    """Form or JSON: ``key`` and any of ``name``, ``min_confirmations``, ``status``
    (active, disabled), ``explorer_address``, ``explorer_transaction``."""
    body = _body(await read_body(request), BLOCKCHAIN)
    key = body.get("key", body.get("id"))
    if not isinstance(key, str) or not key.strip():
        raise ApiError(422, f"{BLOCKCHAIN}.missing_key")
    row = await _find_chain(session, key.strip().lower())
    problems: list[str] = []
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = _required_text(body, "name", 64, problems)
    if "min_confirmations" in body:
        values["min_confirmations"] = _whole(body, "min_confirmations", 1, BLOCKCHAIN, problems)
        if not 1 <= values["min_confirmations"] <= MOST_CONFIRMATIONS:
            problems.append(f"{BLOCKCHAIN}.invalid_min_confirmations")
    if "status" in body:
        if body["status"] not in STATUSES:
            problems.append(f"{BLOCKCHAIN}.invalid_status")
        values["status"] = body["status"]
    for name in ("explorer_address", "explorer_transaction"):
        if name in body:
            if not isinstance(body[name], str) or len(body[name]) > 2048:
                problems.append(f"{BLOCKCHAIN}.invalid_{name}")
            values[name] = body[name]
    if problems:
        raise ApiError(422, *dict.fromkeys(problems))
    before = _chain(row).model_dump()
    if values:
        await session.execute(
            update(blockchains)
            .where(blockchains.c.key == row["key"])
            .values(**values, updated_at=func.now())
        )
    shown = _chain(await _find_chain(session, row["key"]))
    await audit.record(
        session,
        actor,
        "blockchain.update",
        "Blockchain",
        row["key"],
        before=before,
        after=shown.model_dump(),
    )
    await session.commit()
    return shown


# ---------------------------------------------------------------------- wallets


async def _held(session: Session, ids: list[int]) -> dict[int, list[str]]:
    held: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        query = (
            select(wallet_currencies)
            .where(wallet_currencies.c.wallet_id.in_(ids))
            .order_by(wallet_currencies.c.currency_id)
        )
        for row in (await session.execute(query)).all():
            held[int(row.wallet_id)].append(row.currency_id)
    return held


@router.get("/wallets", summary="Wallets", responses=_ERRORS)
async def list_wallets(
    _: ReadWallet,
    session: Session,
    response: Response,
    params: Annotated[AdminList, Depends()],
    blockchain_key: Annotated[str | None, Query(max_length=32)] = None,
    kind: Literal["deposit", "fee", "hot", "warm", "cold"] | None = None,
) -> list[AdminWallet]:
    query = select(wallets).order_by(wallets.c.id)
    if blockchain_key is not None:
        query = query.where(wallets.c.blockchain_key == blockchain_key)
    if kind is not None:
        query = query.where(wallets.c.kind == kind)
    rows = list((await session.execute(query)).mappings())
    if params.ordering == "desc":
        rows.reverse()
    shown = _page(response, rows, params)
    held = await _held(session, [r["id"] for r in shown])
    return [_wallet(r, held[r["id"]]) for r in shown]


async def _find_wallet(session: Session, wallet_id: int) -> AdminWallet:
    row = (
        (await session.execute(select(wallets).where(wallets.c.id == wallet_id))).mappings().first()
    )
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return _wallet(row, (await _held(session, [wallet_id]))[wallet_id])


# ------------------------------------- sweeps, solvency (before ``/wallets/{id}``)


@router.get("/wallets/sweeps", summary="Sweeps and surplus proposals (Bursa)", responses=_ERRORS)
async def list_sweeps(
    _: ReadWallet,
    session: Session,
    response: Response,
    params: Annotated[AdminList, Depends()],
    kind: Literal["collect", "gas", "surplus"] | None = None,
    state: Literal["proposed", "dismissed", "signed", "broadcast", "confirmed", "failed"]
    | None = None,
    blockchain_key: Annotated[str | None, Query(max_length=32)] = None,
) -> list[AdminSweep]:
    query = select(sweeps)
    if kind is not None:
        query = query.where(sweeps.c.kind == kind)
    if state is not None:
        query = query.where(sweeps.c.state == state)
    if blockchain_key is not None:
        query = query.where(sweeps.c.blockchain_key == blockchain_key)
    order = sweeps.c.id.asc() if params.ordering == "asc" else sweeps.c.id.desc()
    rows = list((await session.execute(query.order_by(order))).mappings())
    return [_sweep(r) for r in _page(response, rows, params)]


@router.post(
    "/wallets/sweeps/action",
    status_code=201,
    summary="Dismiss a surplus proposal (Bursa)",
    responses=_ERRORS,
)
async def act_on_sweep(actor: ManageWallet, request: Request, session: Session) -> AdminSweep:
    """Form or JSON: ``id`` and ``action`` (``dismiss``: an admin moved the surplus by
    hand, or wants it kept; the sweeper proposes again while the cap is exceeded)."""
    body = _body(await read_body(request), WALLET)
    problems: list[str] = []
    sweep_id = _whole(body, "id", 0, WALLET, problems)
    if body.get("action") != "dismiss":
        problems.append(f"{WALLET}.invalid_action")
    if problems or sweep_id == 0:
        raise ApiError(422, *(problems or [f"{WALLET}.missing_id"]))
    query = select(sweeps).where(sweeps.c.id == sweep_id).with_for_update()
    row = (await session.execute(query)).mappings().first()
    if row is None:
        raise ApiError(404, NOT_FOUND)
    if row["state"] != PROPOSED:
        raise ApiError(422, f"{WALLET}.cannot_perform_dismiss_action")
    changed = await session.execute(
        update(sweeps)
        .where(sweeps.c.id == sweep_id)
        .values(state=DISMISSED, updated_at=func.now())
        .returning(sweeps)
    )
    shown = _sweep(changed.mappings().one())
    await audit.record(
        session,
        actor,
        "sweep.dismiss",
        "Wallet",
        sweep_id,
        before=_sweep(row).model_dump(),
        after=shown.model_dump(),
    )
    await session.commit()
    return shown


@router.get("/wallets/fees", summary="Network fees Bursa's wallets paid (Bursa)", responses=_ERRORS)
async def list_network_fees(
    _: ReadWallet,
    session: Session,
    response: Response,
    params: Annotated[AdminList, Depends()],
    source: Literal["sweep", "withdraw"] | None = None,
    state: Literal["recorded", "booked", "settled", "refused"] | None = None,
    blockchain_key: Annotated[str | None, Query(max_length=32)] = None,
    txid: Annotated[str | None, Query(max_length=128)] = None,
) -> list[AdminNetworkFee]:
    """Each transaction's fee as signed and as mined, what the ledger books for it and
    the engine keys that booked it (the postings are in ``admin/expenses``, ``rid`` the
    ``reference``)."""
    table = fee_table.network_fees
    query = select(table)
    for column, value in (
        (table.c.source, source),
        (table.c.state, state),
        (table.c.blockchain_key, blockchain_key),
        (table.c.txid, txid),
    ):
        if value is not None:
            query = query.where(column == value)
    order = table.c.id.asc() if params.ordering == "asc" else table.c.id.desc()
    found = await page_of(session, query.order_by(order), params.limit, params.page)
    paginate(response, found.total, params.page, params.limit)
    return [_fee(r) for r in found.rows]


@router.get(
    "/wallets/overview", summary="On-chain holdings against the ledger (Bursa)", responses=_ERRORS
)
async def get_solvency(_: ReadWallet, request: Request, session: Session) -> list[CurrencySolvency]:
    """Per coin currency: the on-chain balance of every Bursa wallet and deposit address
    of its blockchain (``null`` with status ``unavailable`` when the node does not
    answer), the ledger's assets, members' balances (liabilities), ``difference`` (on
    chain − assets: 0 when the books hold what the chain does; network fees are booked
    as paid) and ``reserve`` (on chain − liabilities). Status: ``short`` (reserve below
    0), ``mismatch`` (difference not 0), ``ok``."""
    found = await solvency(session, _plugins(request))
    return [
        CurrencySolvency(
            currency=s.currency,
            blockchain_key=s.blockchain_key,
            addresses=s.addresses,
            on_chain=None if s.on_chain is None else _text(s.on_chain),
            liabilities=_text(s.liabilities),
            assets=_text(s.assets),
            difference=None if s.difference is None else _text(s.difference),
            reserve=None if s.reserve is None else _text(s.reserve),
            status=s.status,
        )
        for s in found
    ]


@router.get("/wallets/{id}", summary="One wallet", responses=_ERRORS)
async def get_wallet(
    _: ReadWallet,
    session: Session,
    id: Annotated[PlainInt, Path(ge=1, le=MOST_ID)],
) -> AdminWallet:
    return await _find_wallet(session, id)


def _max_balance(body: dict[str, Any], problems: list[str]) -> Decimal:
    value = body.get("max_balance", "0")
    try:
        number = read_amount(value)
    except NotPlain:
        number = Decimal(-1)
    if (
        number < 0
        or number.adjusted() >= MOST_DIGITS
        or number != number.quantize(Decimal(1).scaleb(-18), rounding=ROUND_DOWN)
    ):
        problems.append(f"{WALLET}.invalid_max_balance")
        return Decimal(0)
    return number


def _currency_list(body: dict[str, Any], problems: list[str]) -> tuple[str, ...]:
    value = body.get("currencies", body.get("currency"))
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not value:
        problems.append(f"{WALLET}.missing_currencies")
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{WALLET}.invalid_currencies")
        return ()
    return tuple(dict.fromkeys(v.strip().lower() for v in value))


@router.post("/wallets/new", status_code=201, summary="Add a wallet", responses=_ERRORS)
async def new_wallet(actor: ManageWallet, request: Request, session: Session) -> AdminWallet:
    """Form or JSON: ``name``, ``blockchain_key``, ``kind`` (deposit, fee, hot: Bursa makes
    the key; warm, cold: give their ``address``), ``currencies``, ``max_balance``."""
    body = _body(await read_body(request), WALLET)
    problems: list[str] = []
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 64:
        problems.append(f"{WALLET}.missing_name")
    key = body.get("blockchain_key")
    if not isinstance(key, str) or not key.strip():
        problems.append(f"{WALLET}.missing_blockchain_key")
    kind = body.get("kind")
    if kind not in WALLET_KINDS:
        problems.append(f"{WALLET}.invalid_kind")
    held = _currency_list(body, problems)
    address = body.get("address")
    if address is not None and (not isinstance(address, str) or len(address) > 128):
        problems.append(f"{WALLET}.invalid_address")
    max_balance = _max_balance(body, problems)
    if problems:
        raise ApiError(422, *dict.fromkeys(problems))
    assert isinstance(name, str)
    assert isinstance(key, str)
    assert isinstance(kind, str)
    new = setup.NewWallet(
        name.strip(),
        key.strip().lower(),
        kind,
        held,
        address.strip() if isinstance(address, str) and address.strip() else None,
        max_balance,
    )
    try:
        row = await setup.add_wallet(session, _plugins(request), new)
    except setup.SetupRefused as exc:
        raise ApiError(422, exc.code) from exc
    except Exception as exc:  # the chain's plugin cannot be opened (a node URL it refuses)
        log.warning("no wallet on %s: its plugin cannot be opened: %s", new.blockchain_key, exc)
        raise ApiError(422, f"{WALLET}.blockchain_unavailable") from exc
    shown = await _find_wallet(session, int(row["id"]))
    await audit.record(
        session, actor, "wallet.create", "Wallet", row["id"], after=shown.model_dump()
    )
    await session.commit()
    return shown


@router.post("/wallets/update", status_code=201, summary="Change a wallet", responses=_ERRORS)
async def update_wallet(actor: ManageWallet, request: Request, session: Session) -> AdminWallet:
    """Form or JSON: ``id`` and any of ``max_balance``, ``status`` (active, disabled),
    ``name``. Keys and addresses do not change: add a new wallet instead."""
    body = _body(await read_body(request), WALLET)
    problems: list[str] = []
    wallet_id = _whole(body, "id", 0, WALLET, problems)
    if problems or wallet_id == 0:
        raise ApiError(422, f"{WALLET}.missing_id")
    before = await _find_wallet(session, wallet_id)
    values: dict[str, Any] = {}
    if "max_balance" in body:
        values["max_balance"] = _max_balance(body, problems)
    if "status" in body:
        if body["status"] not in STATUSES:
            problems.append(f"{WALLET}.invalid_status")
        values["status"] = body["status"]
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 64:
            problems.append(f"{WALLET}.invalid_name")
        else:
            values["name"] = name.strip()
    if problems:
        raise ApiError(422, *dict.fromkeys(problems))
    if values:
        await session.execute(
            update(wallets).where(wallets.c.id == wallet_id).values(**values, updated_at=func.now())
        )
    shown = await _find_wallet(session, wallet_id)
    await audit.record(
        session,
        actor,
        "wallet.update",
        "Wallet",
        wallet_id,
        before=before.model_dump(),
        after=shown.model_dump(),
    )
    await session.commit()
    return shown
