"""Peatio's admin whitelisted smart contracts (``/api/v2/peatio/admin/
whitelisted_smart_contracts``): list, one (``whitelisted_smart_contract/{id}``, Peatio's
singular path; the plural one too), add, change, and add many from a CSV upload
(``blockchain_key``, ``address``, ``description``, ``state`` columns).

Kept and served only: Bursa's Ethereum scanner reads every token transfer of a block
whatever contract was called, so it needs no whitelist (``bursa.custody.
whitelisted_contracts`` says why). Configuration like blockchains, so Peatio's abilities
on ``Blockchain`` decide who reads and changes them.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Response, UploadFile
from pydantic import BaseModel, BeforeValidator, Field

from bursa.api.bodies import body_of, codes
from bursa.api.deps import Session, Transaction
from bursa.api.errors import error_code
from bursa.api.peatio.admin.auth import PREFIX, admin_gate
from bursa.api.peatio.admin.fields import MOST_ID, AdminBody, required_text, text
from bursa.api.peatio.admin.lists import AdminPage, sort_by
from bursa.api.peatio.params import paginate
from bursa.api.schemas import Errors
from bursa.custody import csv_uploads
from bursa.custody import whitelisted_contracts as contracts
from bursa.custody.whitelisted_contracts import ADDRESS_AREA, AREA
from bursa.plain_input import PlainInt
from bursa.trading.audit import Actor

router = APIRouter(prefix=PREFIX, tags=["peatio admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Errors} for code in (401, 403, 404, 422)
}
Reader = Annotated[Actor, Depends(admin_gate("read", "Blockchain"))]
Manager = Annotated[Actor, Depends(admin_gate("manage", "Blockchain"))]
State = Literal["active", "disabled"]
ContractId = Annotated[
    PlainInt, Path(ge=1, le=MOST_ID, json_schema_extra=error_code(f"{AREA}.non_integer_id"))
]
ChainKey = Annotated[str, BeforeValidator(required_text(32))]
Address = Annotated[str, BeforeValidator(required_text(128))]
Description = Annotated[str, BeforeValidator(text(255))]


class WhitelistedSmartContract(BaseModel):
    id: int
    blockchain_key: str
    address: str
    description: str
    state: str
    created_at: str
    updated_at: str


class NewContract(AdminBody):
    blockchain_key: ChainKey = Field(
        json_schema_extra=codes(
            contracts.CHAIN_NOT_FOUND, missing=f"{ADDRESS_AREA}.missing_blockchain_key"
        )
    )
    address: Address = Field(
        json_schema_extra=codes(
            contracts.INVALID_ADDRESS, missing=f"{ADDRESS_AREA}.missing_address"
        )
    )
    description: Description = Field(
        default="", json_schema_extra=codes(f"{ADDRESS_AREA}.invalid_description")
    )
    state: State = Field(
        default="active", json_schema_extra=codes(f"{ADDRESS_AREA}.invalid_status")
    )

    def new(self) -> contracts.NewContract:
        return contracts.NewContract(
            self.blockchain_key, self.address, self.description, self.state
        )


class ContractChange(AdminBody):
    id: Annotated[PlainInt, Field(ge=1, le=MOST_ID)] = Field(
        json_schema_extra=codes(
            f"{ADDRESS_AREA}.non_integer_id", missing=f"{ADDRESS_AREA}.missing_id"
        )
    )
    blockchain_key: ChainKey | None = Field(
        default=None, json_schema_extra=codes(contracts.CHAIN_NOT_FOUND)
    )
    address: Address | None = Field(
        default=None, json_schema_extra=codes(contracts.INVALID_ADDRESS)
    )
    description: Description | None = Field(
        default=None, json_schema_extra=codes(f"{ADDRESS_AREA}.invalid_description")
    )
    state: State | None = Field(
        default=None, json_schema_extra=codes(f"{ADDRESS_AREA}.invalid_status")
    )

    def fields(self) -> contracts.ContractFields:
        changed: contracts.ContractFields = {}
        if self.blockchain_key is not None:
            changed["blockchain_key"] = self.blockchain_key
        if self.address is not None:
            changed["address"] = self.address
        if self.description is not None:
            changed["description"] = self.description
        if self.state is not None:
            changed["state"] = self.state
        return changed


def _shown(row: Any) -> WhitelistedSmartContract:
    return WhitelistedSmartContract(**contracts.view(row))


@router.get(
    "/whitelisted_smart_contracts", summary="Whitelisted smart contracts", responses=_ERRORS
)
async def list_contracts(
    _: Reader,
    session: Session,
    response: Response,
    params: Annotated[AdminPage, Depends()],
    blockchain_key: Annotated[str | None, Query(max_length=32)] = None,
    order_by: Annotated[
        Literal[contracts.ORDER_BY],  # type: ignore[valid-type]
        sort_by(*contracts.ORDER_BY),
    ] = "id",
) -> list[WhitelistedSmartContract]:
    found = await contracts.listed(
        session,
        blockchain_key=blockchain_key,
        order_by=order_by,
        ascending=params.ascending,
        limit=params.limit,
        page=params.page,
    )
    paginate(response, found.total, params.page, params.limit)
    return [_shown(row) for row in found.rows]


@router.get(
    "/whitelisted_smart_contract/{id}", summary="One whitelisted smart contract", responses=_ERRORS
)
@router.get(
    "/whitelisted_smart_contracts/{id}",
    summary="One whitelisted smart contract",
    responses=_ERRORS,
    include_in_schema=False,
)
async def get_contract(_: Reader, session: Session, id: ContractId) -> WhitelistedSmartContract:
    return _shown(await contracts.find(session, id))


@router.post(
    "/whitelisted_smart_contracts",
    status_code=201,
    summary="Whitelist a smart contract",
    responses=_ERRORS,
)
async def new_contract(
    actor: Manager, body: Annotated[NewContract, body_of(NewContract)], session: Transaction
) -> WhitelistedSmartContract:
    return _shown(await contracts.create(session, actor, body.new()))


@router.put(
    "/whitelisted_smart_contracts", summary="Change a whitelisted smart contract", responses=_ERRORS
)
async def update_contract(
    actor: Manager, body: Annotated[ContractChange, body_of(ContractChange)], session: Transaction
) -> WhitelistedSmartContract:
    return _shown(await contracts.change(session, actor, body.id, body.fields()))


@router.post(
    "/whitelisted_smart_contracts/csv",
    status_code=201,
    summary="Whitelist smart contracts from a CSV file",
    responses=_ERRORS,
)
async def import_contracts(
    actor: Manager, session: Transaction, file: Annotated[UploadFile, File()]
) -> list[WhitelistedSmartContract]:
    """Every row is checked first (a bad one: its code and ``…line_N``, nothing added);
    contracts listed already are left as they are. The contracts added."""
    content = await file.read(csv_uploads.MOST_BYTES + 1)
    return [_shown(row) for row in await contracts.import_csv(session, actor, content)]
