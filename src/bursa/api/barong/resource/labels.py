"""The member's labels (``/api/v2/barong/resource/labels``): all of them to read, the
``public`` ones to write. Writes need the session cookie (and its CSRF header)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from bursa.api.barong.deps import ReaderDep, SessionDep
from bursa.api.barong.schemas import ERRORS, Label
from bursa.api.bodies import body_of
from bursa.api.deps import client_of
from bursa.api.schemas import Errors
from bursa.identity.public_labels import PublicLabels

router = APIRouter(prefix="/api/v2/barong/resource/labels", tags=["barong resource"])
_WITH_404: dict[int | str, dict[str, Any]] = ERRORS | {404: {"model": Errors}}


class NewLabel(BaseModel):
    key: str = Field(max_length=255)
    value: str = Field(max_length=255)


class LabelValue(BaseModel):
    value: str = Field(max_length=255)


def get_labels(request: Request) -> PublicLabels:
    found: PublicLabels = request.app.state.public_labels
    return found


LabelsDep = Annotated[PublicLabels, Depends(get_labels)]


@router.get("", responses=ERRORS, summary="The member's labels, public and private")
async def list_labels(user: ReaderDep, labels: LabelsDep) -> list[Label]:
    return [Label(**label) for label in await labels.list(user["id"])]


@router.get("/{key}", responses=_WITH_404, summary="One label by key")
async def get_label(key: str, user: ReaderDep, labels: LabelsDep) -> Label:
    return Label(**await labels.get(user["id"], key))


@router.post("", status_code=201, responses=ERRORS, summary="Add a public label")
async def create_label(
    request: Request,
    session: SessionDep,
    labels: LabelsDep,
    body: Annotated[NewLabel, body_of(NewLabel)],
) -> Label:
    created = await labels.create(session.user, body.key, body.value, client_of(request))
    return Label(**created)


@router.patch("/{key}", responses=_WITH_404, summary="Change a public label's value")
async def update_label(
    key: str,
    request: Request,
    session: SessionDep,
    labels: LabelsDep,
    body: Annotated[LabelValue, body_of(LabelValue)],
) -> Label:
    updated = await labels.update(session.user, key, body.value, client_of(request))
    return Label(**updated)


@router.delete("/{key}", status_code=204, responses=_WITH_404, summary="Remove a public label")
async def delete_label(
    key: str, request: Request, session: SessionDep, labels: LabelsDep
) -> Response:
    await labels.delete(session.user, key, client_of(request))
    return Response(status_code=204)
