"""``GET /api/v2/barong/admin/abilities``: what the calling admin's role may read and manage
in the admin API, derived from the permission table the authorization step applies
(``bursa.identity.access_rules.AccessRules.abilities``)."""

from fastapi import APIRouter

from bursa.api.barong.deps import AccessRulesDep, Admin

router = APIRouter(prefix="/api/v2/barong/admin", tags=["barong admin"])


@router.get("/abilities", summary="What my role may read and manage")
async def abilities(admin: Admin, rules: AccessRulesDep) -> dict[str, list[str]]:
    return await rules.abilities(str(admin["role"]))
