"""Bearer tokens for the dialer API: Keycloak-style password/refresh grants or a static token.

Kept apart from the HTTP client so the token life cycle (fetch once, share between
concurrent requests, refresh ahead of expiry, fall back to a fresh login) can be
read in one place. Secrets live only in private attributes and are never logged,
put into exceptions or shown by ``repr``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bot.dialer.models import DialerError

log = logging.getLogger("bot.dialer")

CLIENT_ID = "api"
# Refresh this long before the access token expires: 10 % of its lifetime, at most 30 s,
# so that a request never leaves with a token that dies in flight.
REFRESH_MARGIN_MAX = 30.0
REFRESH_MARGIN_FRACTION = 0.1

PostForm = Callable[[str, dict[str, str]], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class TokenInfo:
    """What the last grant said about its token, for `dialer-bot doctor`; no secret in it."""

    grant: str  # "password", "refresh_token" or "static"
    expires_in: float | None = None
    refresh_offered: bool = False
    refresh_expires_in: float | None = None
    token_type: str | None = None


class TokenSource:
    """Hands out a valid bearer token; one fetch at a time, shared by all waiters."""

    def __init__(
        self,
        post_form: PostForm,
        auth_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        clock: Callable[[], float],
    ) -> None:
        if token is None and not (username and password):
            raise ValueError("give either token= or both username= and password=")
        self._post_form = post_form
        self._auth_url = auth_url
        self._username = username
        self._password = password
        self._static = token
        self._clock = clock
        self._lock = asyncio.Lock()
        self._access: str | None = None
        self._refresh: str | None = None
        self._refresh_at = 0.0  # clock time after which we refresh ahead of expiry
        self._refresh_expires_at: float | None = None
        self.info: TokenInfo = TokenInfo("static") if token is not None else TokenInfo("none")

    @property
    def is_static(self) -> bool:
        return self._static is not None

    def describe(self) -> str:
        """For ``repr``: how we authenticate, without any secret."""
        if self._static is not None:
            return "static token"
        return f"password grant as {self._username!r}"

    async def token(self) -> str:
        """A token valid for at least the refresh margin; fetches under a lock if needed."""
        if self._static is not None:
            return self._static
        if self._access is not None and self._clock() < self._refresh_at:
            return self._access
        async with self._lock:
            # Someone else may have fetched while we waited for the lock.
            if self._access is None or self._clock() >= self._refresh_at:
                await self._renew()
            assert self._access is not None
            return self._access

    async def refresh_now(self) -> bool:
        """Use the refresh grant once, if the auth server offered a refresh token (doctor).
        False when none was offered; DialerError when the server refuses it."""
        async with self._lock:
            if self._refresh is None:
                return False
            form = {"grant_type": "refresh_token", "refresh_token": self._refresh}
            await self._grant("refresh_token", form)
            return True

    async def renew_after_401(self, rejected: str) -> str:
        """The API rejected ``rejected``: renew it once, however many requests saw the 401."""
        if self._static is not None:
            raise AssertionError("a static token cannot be renewed")
        async with self._lock:
            if self._access is None or self._access == rejected:
                await self._renew()
            assert self._access is not None
            return self._access

    async def _renew(self) -> None:
        if self._refresh is not None and not self._refresh_expired():
            try:
                await self._grant(
                    "refresh_token", {"grant_type": "refresh_token", "refresh_token": self._refresh}
                )
                return
            except DialerError as err:
                if err.kind != "http":
                    raise
                log.info("token refresh was refused (%s); logging in again", err.status)
        self._refresh = None
        await self._grant(
            "password",
            {
                "grant_type": "password",
                "username": self._username or "",
                "password": self._password or "",
            },
        )

    def _refresh_expired(self) -> bool:
        return self._refresh_expires_at is not None and self._clock() >= self._refresh_expires_at

    async def _grant(self, grant: str, form: dict[str, str]) -> None:
        started = self._clock()
        response = await self._post_form(self._auth_url, {"client_id": CLIENT_ID, **form})
        if response.status_code != 200:
            raise self._grant_error(grant, response)
        try:
            body = response.json()
            access = str(body["access_token"])
            expires_in = float(body.get("expires_in") or 0)
        except (ValueError, KeyError, TypeError):
            raise DialerError(
                "the auth server's answer had no access_token",
                status=response.status_code,
                method="POST",
                path=response.request.url.path,
                kind="http",
                sent=True,
            ) from None
        margin = min(REFRESH_MARGIN_MAX, REFRESH_MARGIN_FRACTION * expires_in)
        self._access = access
        # Times count from before the request, so network delay only makes us refresh earlier.
        self._refresh_at = started + expires_in - margin if expires_in > 0 else float("inf")
        self._refresh = body.get("refresh_token") or None
        try:
            refresh_in = float(body.get("refresh_expires_in") or 0)
        except (TypeError, ValueError):
            refresh_in = 0.0
        self.info = TokenInfo(
            grant,
            expires_in or None,
            self._refresh is not None,
            refresh_in or None,
            str(body.get("token_type") or "") or None,
        )
        # Keycloak reports 0 for refresh tokens without their own expiry.
        self._refresh_expires_at = started + refresh_in if refresh_in > 0 else None

    def _grant_error(self, grant: str, response: httpx.Response) -> DialerError:
        error, description = _oauth_error(response)
        detail = f"{error}: {description}" if error and description else (error or description)
        if grant == "password" and error == "invalid_grant":
            message = (
                f"the dialer rejected the username or password ({detail}); "
                "check DIALER_USERNAME and DIALER_PASSWORD"
            )
        elif error == "invalid_client":
            message = f"the dialer's auth server rejected client_id={CLIENT_ID} ({detail})"
        else:
            message = f"the dialer's auth server refused the {grant} grant ({detail})"
        return DialerError(
            self._scrub(message),
            status=response.status_code,
            method="POST",
            path=response.request.url.path,
            kind="http",
            sent=True,
        )

    def _scrub(self, text: str) -> str:
        """Belt and braces: an auth server echoing a secret must not leak it into errors."""
        for secret in (self._password, self._access, self._refresh, self._static):
            if secret:
                text = text.replace(secret, "***")
        return text


def _oauth_error(response: httpx.Response) -> tuple[str, str]:
    """The ``error`` / ``error_description`` pair, or a truncated text body when not JSON."""
    try:
        body: Any = response.json()
    except ValueError:
        return "", response.text.strip()[:300] or f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return "", str(body)[:300]
    error = str(body.get("error") or "")
    description = str(body.get("error_description") or body.get("message") or "")
    if not error and not description:
        description = f"HTTP {response.status_code}"
    return error, description
