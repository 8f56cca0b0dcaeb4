"""The start's one auth.test: it proves SLACK_BOT_TOKEN, and its answer is what Bolt's
``authorize=`` hands every request, so no request waits for auth.test."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ConfigError

log = logging.getLogger(__name__)


# auth.test errors that no retry fixes: the bot token is wrong, revoked or not a bot token.
_BOT_TOKEN_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)


class SlackAuth:
    """The bot token's auth.test answer, asked once at start (check) and reused by Bolt
    (authorize). A start that could not reach Slack leaves ``answer`` None; /readyz and the
    first request then ask again, concurrent requests sharing one auth.test."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self.answer: Any = None
        self._asking: asyncio.Task[bool] | None = None

    async def check(self) -> bool:
        """The one auth.test of a start. A refused token is a ConfigError naming
        SLACK_BOT_TOKEN; Slack unreachable is logged and False. True once Slack said yes."""
        from bot.slack_client import share_connections

        share_connections(self._client)  # the start's first Slack call: pool from here on
        if self.answer is not None:
            return True
        try:
            response = await self._client.auth_test()
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            if error in _BOT_TOKEN_ERRORS:
                raise ConfigError(
                    f"SLACK_BOT_TOKEN was refused by Slack ({error}); copy the Bot User OAuth "
                    "Token (xoxb-...) from the app's OAuth & Permissions page"
                ) from None
            log.warning("auth.test failed (%s); Slack is asked again later", error or "HTTP error")
            return False
        except Exception as exc:  # noqa: BLE001 - Slack unreachable: not fatal, retried later
            log.warning("auth.test failed (%s); Slack is asked again later", type(exc).__name__)
            return False
        self.answer = response
        log.info(
            "Slack auth ok: bot user %s in team %s",
            response.get("user_id"),
            response.get("team_id"),
        )
        return True

    async def authorize(self) -> AuthorizeResult | None:
        """Bolt's ``authorize=``: the start's answer; None (Bolt refuses the request) while
        Slack has not said yes."""
        if self.answer is None:
            if self._asking is None or self._asking.done():
                self._asking = asyncio.ensure_future(self._check_quietly())
            if not await asyncio.shield(self._asking):
                return None
        return AuthorizeResult.from_auth_test_response(
            auth_test_response=self.answer, bot_token=self._client.token
        )

    async def _check_quietly(self) -> bool:
        try:
            return await self.check()
        except ConfigError as exc:
            log.error("%s", exc)
            return False
