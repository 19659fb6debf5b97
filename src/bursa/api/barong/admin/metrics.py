"""``GET /api/v2/barong/admin/metrics``: sign-ups, successful and failed logins by day in a
period, and the KYC applications waiting (``bursa.identity.metrics``)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from bursa.api.barong.deps import Admin
from bursa.api.errors import error_code
from bursa.identity.metrics import Metrics, period

router = APIRouter(prefix="/api/v2/barong/admin", tags=["barong admin"])

Moment = "Unix seconds, or an ISO 8601 date or time (UTC unless it says otherwise)"


class MetricsSummary(BaseModel):
    signups: dict[str, int]  # {"YYYY-MM-DD": count}, UTC days
    sucessful_logins: dict[str, int]  # Barong's spelling
    failed_logins: dict[str, int]
    pending_applications: int


@router.get("/metrics", summary="Sign-ups and logins by day, KYC applications waiting")
async def metrics(
    _: Admin,
    request: Request,
    created_from: Annotated[
        str | None,
        Query(
            max_length=40,
            description=Moment,
            json_schema_extra=error_code("admin.metrics.invalid_created_from"),
        ),
    ] = None,
    created_to: Annotated[
        str | None,
        Query(
            max_length=40,
            description=f"{Moment}; included (a date: the whole day)",
            json_schema_extra=error_code("admin.metrics.invalid_created_to"),
        ),
    ] = None,
) -> MetricsSummary:
    found = Metrics(request.app.state.identity)
    return MetricsSummary(**await found.summary(period(created_from, created_to)))
