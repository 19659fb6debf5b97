"""The Peatio admin API's custody (``/api/v2/peatio/admin``): blockchains, wallets, the
sweeps custody made or proposes (``/wallets/sweeps``), the network fees its wallets paid
(``/wallets/fees``) and the solvency view (``/wallets/overview``): under ``/wallets`` so
Barong's permissions on wallets cover them.

What is shown never holds a secret: a blockchain's node URL (it may carry credentials) and
a wallet's key are left out of every answer and every audit entry (the services' ``view``).
Creating and changing go through custody's services (``admin_blockchains``,
``admin_wallets``, ``admin_sweeps``), the adding through ``bursa.custody.setup`` (the
``bursa custody`` commands' code), so keys are made by the chain's plugin and sealed at once.
"""

import re
from decimal import Decimal, localcontext
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from bursa.api.bodies import body_of, codes
from bursa.api.deps import Runner, Session, Transaction
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.change import Custody, Sessions, engine
from bursa.api.peatio.admin.fields import (
    MOST_ID,
    NUL,
    AdminBody,
    Quantity,
    Whole,
    required_text,
    text,
)
from bursa.api.peatio.admin.lists import AdminList, Paging, sort_by
from bursa.api.peatio.params import paginate
from bursa.api.schemas import Errors
from bursa.custody import (
    admin_blockchains,
    admin_blocks,
    admin_sweeps,
    admin_wallet_currencies,
    admin_wallets,
    network_fees,
    setup,
)
from bursa.custody.solvency import solvency
from bursa.custody.tables import WALLET_KINDS
from bursa.formats import decimal_text, iso
from bursa.plain_input import PlainInt
from bursa.trading.audit import Actor

router = APIRouter(prefix=PREFIX, tags=["peatio admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422)
}
BLOCKCHAIN, WALLET = setup.BLOCKCHAIN, setup.WALLET
MOST_CONFIRMATIONS = 10_000  # far beyond any chain's need; keeps within an INTEGER
MOST_BALANCE = Decimal(10) ** 22  # a max_balance's bound: NUMERIC(40, 18)
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

ReadChain = Annotated[Actor, Depends(admin_gate("read", "Blockchain"))]
ManageChain = Annotated[Actor, Depends(admin_gate("manage", "Blockchain"))]
ReadWallet = Annotated[Actor, Depends(admin_gate("read", "Wallet"))]
ManageWallet = Annotated[Actor, Depends(admin_gate("manage", "Wallet"))]
List = Annotated[AdminList, Depends()]


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


def _fee(row: Any) -> AdminNetworkFee:
    return AdminNetworkFee(
        id=row["id"],
        blockchain_key=row["blockchain_key"],
        currency=row["currency_id"],
        txid=row["txid"],
        source=row["source"],
        source_id=row["source_id"],
        reference=network_fees.reference(row["source"], row["source_id"]),
        estimated=decimal_text(row["estimated"]),
        actual=decimal_text(row["actual"]),
        booked=decimal_text(row["booked"]),
        sent_key=network_fees.sent_key(row["id"]),
        mined_key=None if row["actual"] is None else network_fees.mined_key(row["id"]),
        state=row["state"],
        error=row["error"],
        created_at=iso(row["created_at"]),
        updated_at=iso(row["updated_at"]),
    )


# ---------------------------------------------------------------------- request bodies


def _chain_codes(name: str, **by_type: str) -> dict[str, Any]:
    return codes(f"{BLOCKCHAIN}.invalid_{name}", missing=f"{BLOCKCHAIN}.missing_{name}", **by_type)


def _server(url: str) -> str:
    if "://" not in url:
        raise PydanticCustomError("url", "a URL")
    return url


def _within_18_places(amount: Decimal) -> Decimal:
    """An amount the column holds exactly (below ``MOST_BALANCE``: 40 digits at most)."""
    with localcontext() as exact:
        exact.prec = 60
        if amount != amount.quantize(Decimal(1).scaleb(-18)):
            raise PydanticCustomError("places", "at most 18 decimals")
    return amount


def _currency_list(value: object) -> tuple[str, ...]:
    """Codes as a list, or comma-separated text (a form's)."""
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not value:
        raise PydanticCustomError("missing", "at least one currency")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PydanticCustomError("currencies", "a list of currency codes")
    return tuple(dict.fromkeys(v.strip().lower() for v in value))


Confirmations = Annotated[Whole, Field(ge=1, le=MOST_CONFIRMATIONS)]
Status = Literal["active", "disabled"]
Explorer = Annotated[str, BeforeValidator(text(2048, strip=False))]
MaxBalance = Annotated[Quantity, Field(lt=MOST_BALANCE), AfterValidator(_within_18_places)]
WalletId = Annotated[Whole, Field(ge=1)]


class NewBlockchain(AdminBody):
    """``blockchains/new``: ``client`` is the plugin (ethereum, bitcoin, ...), ``server`` the
    node's URL (sealed, never shown again), ``height`` the first block the scanner reads."""

    key: Annotated[str, BeforeValidator(required_text(32))] = Field(
        pattern=KEY_PATTERN.pattern, json_schema_extra=_chain_codes("key")
    )
    name: Annotated[str, BeforeValidator(required_text(64))] = Field(
        json_schema_extra=_chain_codes("name")
    )
    client: Annotated[str, BeforeValidator(required_text(32))] = Field(
        json_schema_extra=_chain_codes("client")
    )
    server: Annotated[str, BeforeValidator(required_text(2048)), AfterValidator(_server)] = Field(
        json_schema_extra=_chain_codes("server")
    )
    min_confirmations: Confirmations = Field(
        default=6,
        json_schema_extra=_chain_codes(
            "min_confirmations", non_integer=f"{BLOCKCHAIN}.non_integer_min_confirmations"
        ),
    )
    height: Whole = Field(default=0, json_schema_extra=codes(f"{BLOCKCHAIN}.non_integer_height"))

    def setup(self) -> setup.NewBlockchain:
        return setup.NewBlockchain(
            self.key, self.name, self.client, self.server, self.min_confirmations, self.height
        )


class BlockchainChange(AdminBody):
    """``blockchains/update``: the chain (``key``, or ``id``) and what changes."""

    key: Annotated[str, BeforeValidator(text(255, lower=True))] = Field(
        min_length=1, json_schema_extra=codes(f"{BLOCKCHAIN}.missing_key")
    )
    name: Annotated[str, BeforeValidator(required_text(64))] | None = Field(
        default=None, json_schema_extra=_chain_codes("name")
    )
    min_confirmations: Confirmations | None = Field(
        default=None,
        json_schema_extra=codes(
            f"{BLOCKCHAIN}.invalid_min_confirmations",
            non_integer=f"{BLOCKCHAIN}.non_integer_min_confirmations",
        ),
    )
    status: Status | None = Field(
        default=None, json_schema_extra=codes(f"{BLOCKCHAIN}.invalid_status")
    )
    explorer_address: Explorer | None = Field(
        default=None, json_schema_extra=codes(f"{BLOCKCHAIN}.invalid_explorer_address")
    )
    explorer_transaction: Explorer | None = Field(
        default=None, json_schema_extra=codes(f"{BLOCKCHAIN}.invalid_explorer_transaction")
    )

    @model_validator(mode="before")
    @classmethod
    def _key_or_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and "key" not in data and "id" in data:
            return {**data, "key": data["id"]}
        return data

    def fields(self) -> admin_blockchains.ChainFields:
        changed = self.model_dump(exclude={"key"}, exclude_none=True)
        return cast(admin_blockchains.ChainFields, changed)


class SweepAction(AdminBody):
    """``wallets/sweeps/action``: ``dismiss`` a surplus proposal."""

    id: WalletId = Field(
        json_schema_extra=codes(f"{WALLET}.missing_id", non_integer=f"{WALLET}.non_integer_id")
    )
    action: Literal["dismiss"] = Field(json_schema_extra=codes(f"{WALLET}.invalid_action"))


class NewWallet(AdminBody):
    """``wallets/new``: ``kind`` deposit, fee or hot (Bursa makes the key) or warm, cold
    (give their ``address``); ``currencies`` (or ``currency``) a list or comma-separated
    codes of the chain's currencies; ``max_balance`` (0: no cap) sends the surplus on."""

    name: Annotated[str, BeforeValidator(required_text(64))] = Field(
        json_schema_extra=codes(f"{WALLET}.missing_name", **{NUL: f"{WALLET}.invalid_name"})
    )
    blockchain_key: Annotated[
        str, BeforeValidator(required_text(255)), AfterValidator(str.lower)
    ] = Field(
        json_schema_extra=codes(
            f"{WALLET}.missing_blockchain_key", **{NUL: f"{WALLET}.invalid_blockchain_key"}
        )
    )
    kind: Literal[WALLET_KINDS] = Field(json_schema_extra=codes(f"{WALLET}.invalid_kind"))  # type: ignore[valid-type]
    currencies: Annotated[tuple[str, ...], BeforeValidator(_currency_list)] = Field(
        json_schema_extra=codes(
            f"{WALLET}.invalid_currencies", missing=f"{WALLET}.missing_currencies"
        )
    )
    address: Annotated[str, BeforeValidator(text(128, strip=False))] | None = Field(
        default=None, json_schema_extra=codes(f"{WALLET}.invalid_address")
    )
    max_balance: MaxBalance = Field(
        default=Decimal(0), json_schema_extra=codes(f"{WALLET}.invalid_max_balance")
    )

    @model_validator(mode="before")
    @classmethod
    def _currencies_or_currency(cls, data: Any) -> Any:
        if isinstance(data, dict) and "currencies" not in data and "currency" in data:
            return {**data, "currencies": data["currency"]}
        return data

    def setup(self) -> setup.NewWallet:
        address = self.address.strip() if self.address else None
        return setup.NewWallet(
            self.name,
            self.blockchain_key,
            self.kind,
            self.currencies,
            address or None,
            self.max_balance,
        )


class WalletChange(AdminBody):
    """``wallets/update``: the wallet's ``id`` and what changes. Keys and addresses do not
    change: add a new wallet instead."""

    id: WalletId = Field(json_schema_extra=codes(f"{WALLET}.missing_id"))
    max_balance: MaxBalance | None = Field(
        default=None, json_schema_extra=codes(f"{WALLET}.invalid_max_balance")
    )
    status: Status | None = Field(default=None, json_schema_extra=codes(f"{WALLET}.invalid_status"))
    name: Annotated[str, BeforeValidator(required_text(64))] | None = Field(
        default=None, json_schema_extra=codes(f"{WALLET}.invalid_name")
    )

    def fields(self) -> admin_wallets.WalletFields:
        changed = self.model_dump(exclude={"id"}, exclude_none=True)
        return cast(admin_wallets.WalletFields, changed)


# ---------------------------------------------------------------------- blockchains


@router.get("/blockchains", summary="Blockchains", responses=_ERRORS)
async def list_blockchains(
    _: ReadChain,
    session: Session,
    response: Response,
    params: Paging,
    order_by: Annotated[
        Literal["id", "key", "name", "height", "status", "created_at", "updated_at"],
        sort_by("id", "key", "name", "height", "status", "created_at", "updated_at"),
    ] = "id",
) -> list[AdminBlockchain]:
    """``id`` is the key (as shown)."""
    found = await admin_blockchains.listed(
        session,
        ascending=params.ascending,
        limit=params.limit,
        page=params.page,
        order_by=order_by,
    )
    paginate(response, found.total, params.page, params.limit)
    return [AdminBlockchain(**admin_blockchains.view(row)) for row in found.rows]


@router.get("/blockchains/clients", summary="Blockchain clients", responses=_ERRORS)
async def list_clients(_: ReadChain) -> list[str]:
    """The chain plugins installed (a blockchain's ``client``)."""
    return admin_blocks.clients()


@router.get("/blockchains/{key}", summary="One blockchain", responses=_ERRORS)
async def get_blockchain(
    _: ReadChain, session: Session, key: Annotated[str, Path(max_length=32)]
) -> AdminBlockchain:
    return AdminBlockchain(**admin_blockchains.view(await admin_blockchains.find(session, key)))


@router.post("/blockchains/new", status_code=201, summary="Add a blockchain", responses=_ERRORS)
async def new_blockchain(
    actor: ManageChain,
    body: Annotated[NewBlockchain, body_of(NewBlockchain)],
    plugins: Custody,
    session: Transaction,
) -> AdminBlockchain:
    added = await admin_blockchains.create_blockchain(
        session, plugins.keystore, actor, body.setup()
    )
    return AdminBlockchain(**admin_blockchains.view(added))


@router.post(
    "/blockchains/update", status_code=201, summary="Change a blockchain", responses=_ERRORS
)
async def update_blockchain(
    actor: ManageChain,
    body: Annotated[BlockchainChange, body_of(BlockchainChange)],
    session: Transaction,
) -> AdminBlockchain:
    changed = await admin_blockchains.update_blockchain(session, actor, body.key, body.fields())
    return AdminBlockchain(**admin_blockchains.view(changed))


# ---------------------------------------------------------------------- wallets


@router.get("/wallets", summary="Wallets", responses=_ERRORS)
async def list_wallets(
    _: ReadWallet,
    session: Session,
    response: Response,
    params: Paging,
    blockchain_key: Annotated[str | None, Query(max_length=32)] = None,
    kind: Literal["deposit", "fee", "hot", "warm", "cold"] | None = None,
    order_by: Annotated[
        Literal["id", "name", "blockchain_key", "kind", "status", "created_at", "updated_at"],
        sort_by("id", "name", "blockchain_key", "kind", "status", "created_at", "updated_at"),
    ] = "id",
) -> list[AdminWallet]:
    found = await admin_wallets.listed(
        session,
        blockchain_key=blockchain_key,
        kind=kind,
        ascending=params.ascending,
        limit=params.limit,
        page=params.page,
        order_by=order_by,
    )
    paginate(response, found.total, params.page, params.limit)
    return [AdminWallet(**shown) for shown in found.rows]


# ------------------------------------- sweeps, solvency (before ``/wallets/{id}``)


@router.get("/wallets/sweeps", summary="Sweeps and surplus proposals (Bursa)", responses=_ERRORS)
async def list_sweeps(
    _: ReadWallet,
    session: Session,
    response: Response,
    params: List,
    kind: Literal["collect", "gas", "surplus"] | None = None,
    state: Literal["proposed", "dismissed", "signed", "broadcast", "confirmed", "failed"]
    | None = None,
    blockchain_key: Annotated[str | None, Query(max_length=32)] = None,
) -> list[AdminSweep]:
    found = await admin_sweeps.listed(
        session,
        admin_sweeps.SweepFilter(kind=kind, state=state, blockchain_key=blockchain_key),
        ascending=params.ordering == "asc",
        limit=params.limit,
        page=params.page,
    )
    paginate(response, found.total, params.page, params.limit)
    return [AdminSweep(**admin_sweeps.view(row)) for row in found.rows]


@router.post(
    "/wallets/sweeps/action",
    status_code=201,
    summary="Dismiss a surplus proposal (Bursa)",
    responses=_ERRORS,
)
async def act_on_sweep(
    actor: ManageWallet,
    body: Annotated[SweepAction, body_of(SweepAction)],
    session: Transaction,
) -> AdminSweep:
    """``dismiss``: an admin moved the surplus by hand, or wants it kept; the sweeper
    proposes again while the cap is exceeded."""
    return AdminSweep(**await admin_sweeps.dismiss(session, actor, body.id))


@router.get("/wallets/fees", summary="Network fees Bursa's wallets paid (Bursa)", responses=_ERRORS)
async def list_network_fees(
    _: ReadWallet,
    session: Session,
    response: Response,
    params: List,
    source: Literal["sweep", "withdraw"] | None = None,
    state: Literal["recorded", "booked", "settled", "refused"] | None = None,
    blockchain_key: Annotated[str | None, Query(max_length=32)] = None,
    txid: Annotated[str | None, Query(max_length=128)] = None,
) -> list[AdminNetworkFee]:
    """Each transaction's fee as signed and as mined, what the ledger books for it and
    the engine keys that booked it (the postings are in ``admin/expenses``, ``rid`` the
    ``reference``)."""
    found = await admin_sweeps.fees_listed(
        session,
        admin_sweeps.FeeFilter(
            source=source, state=state, blockchain_key=blockchain_key, txid=txid
        ),
        ascending=params.ordering == "asc",
        limit=params.limit,
        page=params.page,
    )
    paginate(response, found.total, params.page, params.limit)
    return [_fee(r) for r in found.rows]


@router.get(
    "/wallets/overview", summary="On-chain holdings against the ledger (Bursa)", responses=_ERRORS
)
async def get_solvency(_: ReadWallet, session: Session, plugins: Custody) -> list[CurrencySolvency]:
    """Per coin currency: the on-chain balance of every Bursa wallet and deposit address
    of its blockchain (``null`` with status ``unavailable`` when the node does not
    answer), the ledger's assets, members' balances (liabilities), ``difference`` (on
    chain − assets: 0 when the books hold what the chain does; network fees are booked
    as paid) and ``reserve`` (on chain − liabilities). Status: ``short`` (reserve below
    0), ``mismatch`` (difference not 0), ``ok``."""
    found = await solvency(session, plugins)
    return [
        CurrencySolvency(
            currency=s.currency,
            blockchain_key=s.blockchain_key,
            addresses=s.addresses,
            on_chain=decimal_text(s.on_chain),
            liabilities=decimal_text(s.liabilities),
            assets=decimal_text(s.assets),
            difference=decimal_text(s.difference),
            reserve=decimal_text(s.reserve),
            status=s.status,
        )
        for s in found
    ]


@router.get("/wallets/kinds", summary="Wallet kinds", responses=_ERRORS)
async def list_kinds(_: ReadWallet) -> list[str]:
    return admin_wallet_currencies.kinds()


@router.get("/wallets/gateways", summary="Wallet gateways", responses=_ERRORS)
async def list_gateways(_: ReadWallet) -> list[str]:
    """The chain plugins installed: a Bursa plugin is both client and gateway."""
    return admin_wallet_currencies.gateways()


@router.get("/wallets/{id}", summary="One wallet", responses=_ERRORS)
async def get_wallet(
    _: ReadWallet,
    session: Session,
    id: Annotated[PlainInt, Path(ge=1, le=MOST_ID)],
) -> AdminWallet:
    return AdminWallet(**await admin_wallets.find(session, id))


@router.post("/wallets/new", status_code=201, summary="Add a wallet", responses=_ERRORS)
async def new_wallet(
    actor: ManageWallet,
    body: Annotated[NewWallet, body_of(NewWallet)],
    plugins: Custody,
    session: Transaction,
) -> AdminWallet:
    return AdminWallet(**await admin_wallets.create_wallet(session, plugins, actor, body.setup()))


@router.post("/wallets/update", status_code=201, summary="Change a wallet", responses=_ERRORS)
async def update_wallet(
    actor: ManageWallet,
    body: Annotated[WalletChange, body_of(WalletChange)],
    session: Transaction,
) -> AdminWallet:
    return AdminWallet(**await admin_wallets.update_wallet(session, actor, body.id, body.fields()))


# ------------------------------------- blocks and wallets' currencies (issue 15)


class ProcessBlock(AdminBody):
    """``blockchains/process_block``: the chain (``id``, which is its key, or ``key``) and
    the ``block_number`` to read again."""

    key: Annotated[str, BeforeValidator(text(32, lower=True))] = Field(
        min_length=1, json_schema_extra=codes(f"{BLOCKCHAIN}.missing_id")
    )
    block_number: Whole = Field(
        ge=1,
        json_schema_extra=codes(
            f"{BLOCKCHAIN}.non_positive_block_number",
            missing=f"{BLOCKCHAIN}.missing_block_number",
            non_integer=f"{BLOCKCHAIN}.non_integer_block_number",
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _key_or_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and "key" not in data and "id" in data:
            return {**data, "key": data["id"]}
        return data


class WalletCurrencies(AdminBody):
    """``wallets/currencies``: the wallet's ``id`` and ``currencies`` (a list, or
    comma-separated codes) to attach (POST) or detach (DELETE)."""

    id: WalletId = Field(
        json_schema_extra=codes(f"{WALLET}.missing_id", non_integer=f"{WALLET}.non_integer_id")
    )
    currencies: Annotated[tuple[str, ...], BeforeValidator(_currency_list)] = Field(
        json_schema_extra=codes(
            f"{WALLET}.invalid_currencies", missing=f"{WALLET}.missing_currencies"
        )
    )


@router.get("/blockchains/{key}/latest_block", summary="The node's latest block", responses=_ERRORS)
async def get_latest_block(
    _: ReadChain,
    session: Session,
    plugins: Custody,
    key: Annotated[str, Path(max_length=32)],
) -> int:
    """Asked of the node now; one that does not answer: 422 ``admin.blockchain.latest_block``."""
    return await admin_blocks.latest_block(session, plugins, key)


@router.post(
    "/blockchains/process_block",
    status_code=201,
    summary="Read a block again and credit its deposits",
    responses=_ERRORS,
)
async def process_block(
    actor: ManageChain,
    body: Annotated[ProcessBlock, body_of(ProcessBlock)],
    runner: Runner,
    plugins: Custody,
    sessions: Sessions,
    session: Transaction,
) -> AdminBlockchain:
    """A block the scanner has passed: deposits to members found there are recorded as
    the scanner records them (once) and credited at their confirmations."""
    row = await admin_blocks.process_block(
        session, sessions, engine(runner), plugins, actor, body.key, body.block_number
    )
    return AdminBlockchain(**admin_blockchains.view(row))


@router.post(
    "/wallets/currencies",
    status_code=201,
    summary="Attach currencies to a wallet",
    responses=_ERRORS,
)
async def attach_currencies(
    actor: ManageWallet,
    body: Annotated[WalletCurrencies, body_of(WalletCurrencies)],
    session: Transaction,
) -> AdminWallet:
    return AdminWallet(
        **await admin_wallet_currencies.attach(session, actor, body.id, body.currencies)
    )


@router.delete("/wallets/currencies", summary="Detach currencies from a wallet", responses=_ERRORS)
async def detach_currencies(
    actor: ManageWallet,
    body: Annotated[WalletCurrencies, body_of(WalletCurrencies)],
    session: Transaction,
) -> AdminWallet:
    """A wallet keeps at least one currency (``admin.wallet.last_currency``)."""
    return AdminWallet(
        **await admin_wallet_currencies.detach(session, actor, body.id, body.currencies)
    )
