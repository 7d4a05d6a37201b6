"""GET /metrics: Prometheus text format. Operator-only by default (the admin token);
PRODSEARCH_METRICS_PUBLIC=true opens it, e.g. for a scraper on a private network."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import BearerCredentials, check_admin
from api.routers.admin import AUTH_RESPONSES

router = APIRouter(tags=["admin"])


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format"}, **AUTH_RESPONSES})
def metrics(request: Request, credentials: BearerCredentials) -> Response:
    """Request counts and latency per route template and status, search stage times, process metrics."""
    if not request.app.state.settings.metrics_public:
        check_admin(request.app.state.settings, credentials)
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
