"""The admin bearer token: one `AdminAuth` dependency for every operator-only route.

No token configured (PRODSEARCH_ADMIN_TOKEN unset or empty): 403, admin is disabled.
Missing or wrong token: 401 with ``WWW-Authenticate: Bearer``. Compared in constant time.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.settings import Settings

ADMIN_DISABLED = "admin routes are disabled: set PRODSEARCH_ADMIN_TOKEN to enable them"
# Declares the scheme in OpenAPI (Swagger UI's "Authorize" button); the checks below answer the errors.
bearer_scheme = HTTPBearer(auto_error=False, description="the server's PRODSEARCH_ADMIN_TOKEN")
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def token_matches(settings: Settings, token: str | None) -> bool:
    """True when an admin token is configured and ``token`` equals it (constant-time)."""
    if settings.admin_token is None or token is None:
        return False
    return hmac.compare_digest(token.encode(), settings.admin_token.get_secret_value().encode())


def check_admin(settings: Settings, credentials: HTTPAuthorizationCredentials | None) -> None:
    """403 when admin is disabled, 401 unless ``credentials`` carry the admin token."""
    if settings.admin_token is None:
        raise HTTPException(403, detail=ADMIN_DISABLED)
    if not token_matches(settings, credentials.credentials.strip() if credentials else None):
        raise HTTPException(401, detail="admin route: send 'Authorization: Bearer <PRODSEARCH_ADMIN_TOKEN>'",
                            headers={"WWW-Authenticate": "Bearer"})


def require_admin(request: Request, credentials: BearerCredentials) -> None:
    check_admin(request.app.state.settings, credentials)


AdminAuth = Annotated[None, Depends(require_admin)]
"""Add ``_: AdminAuth`` to a route's parameters to make it operator-only."""
