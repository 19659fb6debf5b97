"""``/api/v2/barong/resource/swagger_doc``: where Barong (grape-swagger) served its API
description. Bursa answers its OpenAPI document — the same one as
``/api/v2/peatio/openapi.json`` — whole, or (``swagger_doc/{name}``) only the resource
paths under ``/api/v2/barong/resource/{name}``, as grape-swagger narrowed it to a resource."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from bursa.api.barong.schemas import ERRORS
from bursa.api.errors import ApiError

PREFIX = "/api/v2/barong/resource"
# Included by the ``resource/users`` router, whose prefix is the resource root.
router = APIRouter(prefix="/swagger_doc")
Name = Annotated[str, Path(pattern=r"^[a-z_]{1,40}$")]


@router.get("", summary="The OpenAPI document")
async def swagger_doc(request: Request) -> dict[str, Any]:
    document: dict[str, Any] = request.app.openapi()
    return document


@router.get("/{name}", responses=ERRORS, summary="The OpenAPI document of one resource")
async def swagger_doc_of(
    request: Request,
    name: Name,
    locale: Annotated[str | None, Query(max_length=10, description="ignored: English only")] = None,
) -> dict[str, Any]:
    document: dict[str, Any] = request.app.openapi()
    within = f"{PREFIX}/{name}"
    paths = {
        path: item
        for path, item in document["paths"].items()
        if path == within or path.startswith(within + "/")
    }
    if not paths:
        raise ApiError(404, "resource.swagger_doc.not_found")
    return {**document, "paths": paths}
