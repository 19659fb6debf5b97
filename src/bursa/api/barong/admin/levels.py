"""``GET /api/v2/barong/admin/levels``: the KYC levels; level N needs the labels of levels
1..N (``bursa.identity.rules.LEVELS``)."""

from fastapi import APIRouter
from pydantic import BaseModel

from bursa.api.barong.deps import Admin
from bursa.identity.rules import LEVELS

router = APIRouter(prefix="/api/v2/barong/admin/levels", tags=["barong admin"])


class Level(BaseModel):
    id: int
    key: str
    value: str
    description: str


@router.get("", summary="KYC levels: level N needs the labels of levels 1..N")
async def levels(_: Admin) -> list[Level]:
    return [
        Level(id=number, key=level.key, value=level.value, description=level.description)
        for number, level in enumerate(LEVELS, start=1)
    ]
