"""The admin bearer token: one `AdminAuth` dependency for every operator-only route.

No token configured (PRODSEARCH_ADMIN_TOKEN unset or empty): 403, admin is disabled.
Missing or wrong token: 401 with ``WWW-Authenticate: Bearer``. Compared in constant time.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from api.settings import Settings

ADMIN_DISABLED = "admin routes are disabled: set PRODSEARCH_ADMIN_TOKEN to enable them"


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_matches(settings: Settings, token: str | None) -> bool:
    """True when an admin token is configured and ``token`` equals it (constant-time)."""
    if settings.admin_token is None or token is None:
        return False
    return hmac.compare_digest(token.encode(), settings.admin_token.get_secret_value().encode())


def require_admin(request: Request) -> None:
    settings: Settings = request.app.state.settings
    if settings.admin_token is None:
        raise HTTPException(403, detail=ADMIN_DISABLED)
    if not token_matches(settings, bearer_token(request)):
        raise HTTPException(401, detail="admin route: send 'Authorization: Bearer <PRODSEARCH_ADMIN_TOKEN>'",
                            headers={"WWW-Authenticate": "Bearer"})


AdminAuth = Annotated[None, Depends(require_admin)]
"""Add ``_: AdminAuth`` to a route's parameters to make it operator-only."""
