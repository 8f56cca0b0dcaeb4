"""Keycloak-shaped token issuing and checking, against an injectable clock.

The clock is injectable so tests can make tokens expire by advancing a fake clock instead of
sleeping. Tokens are opaque random strings; only their expiry times are kept.
"""

from __future__ import annotations

import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

CLIENT_ID = "api"


class TokenStore:
    """Issued access and refresh tokens with their expiry (clock seconds)."""

    def __init__(
        self,
        *,
        username: str,
        password: str,
        lifetime: float,
        refresh_lifetime: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        static_token: str | None = None,
    ) -> None:
        self._username = username
        self._password = password
        self.lifetime = lifetime
        # Keycloak's defaults are 300 s / 1800 s; Voipex uses 3000 s / 7200 s, i.e. 2.4x.
        self.refresh_lifetime = refresh_lifetime if refresh_lifetime is not None else 2.4 * lifetime
        self.clock = clock
        self.static_token = static_token
        self.access: dict[str, float] = {}
        self.refresh: dict[str, float] = {}

    def check_credentials(self, username: str, password: str) -> bool:
        user_ok = hmac.compare_digest(username.encode(), self._username.encode())
        pass_ok = hmac.compare_digest(password.encode(), self._password.encode())
        return user_ok and pass_ok

    def issue(self) -> dict[str, Any]:
        """A fresh access + refresh token pair, as the token endpoint answers it."""
        self._prune()
        now = self.clock()
        access = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32)
        self.access[access] = now + self.lifetime
        self.refresh[refresh] = now + self.refresh_lifetime
        return {
            "access_token": access,
            "expires_in": max(1, round(self.lifetime)),
            "refresh_expires_in": max(1, round(self.refresh_lifetime)),
            "refresh_token": refresh,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": str(uuid.uuid4()),
            "scope": "profile email",
        }

    def access_valid(self, token: str) -> bool:
        if self.static_token is not None and hmac.compare_digest(
            token.encode(), self.static_token.encode()
        ):
            return True
        expiry = self.access.get(token)
        return expiry is not None and self.clock() < expiry

    def refresh_valid(self, token: str) -> bool:
        expiry = self.refresh.get(token)
        return expiry is not None and self.clock() < expiry

    def expire_access_tokens(self) -> None:
        """Invalidate every issued access token (refresh tokens stay usable)."""
        self.access.clear()

    def _prune(self) -> None:
        now = self.clock()
        self.access = {t: e for t, e in self.access.items() if e > now}
        self.refresh = {t: e for t, e in self.refresh.items() if e > now}


async def token_endpoint(tokens: TokenStore, request: web.Request) -> web.Response:
    """POST /token: the password and refresh_token grants, answered as Keycloak does."""
    form = await request.post()
    grant_type = form.get("grant_type")
    if form.get("client_id") != CLIENT_ID:
        return web.json_response(
            {"error": "invalid_client", "error_description": "Invalid client credentials"},
            status=401,
        )
    if grant_type == "password":
        username, password = form.get("username"), form.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return web.json_response(
                {
                    "error": "invalid_request",
                    "error_description": "Missing parameter: username",
                },
                status=400,
            )
        if not tokens.check_credentials(username, password):
            return web.json_response(
                {"error": "invalid_grant", "error_description": "Invalid user credentials"},
                status=401,
            )
        return web.json_response(tokens.issue())
    if grant_type == "refresh_token":
        refresh = form.get("refresh_token")
        if not isinstance(refresh, str) or not tokens.refresh_valid(refresh):
            return web.json_response(
                {"error": "invalid_grant", "error_description": "Token is not active"},
                status=400,
            )
        return web.json_response(tokens.issue())
    return web.json_response(
        {"error": "unsupported_grant_type", "error_description": "Unsupported grant_type"},
        status=400,
    )
