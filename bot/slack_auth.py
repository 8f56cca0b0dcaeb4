"""The start's one auth.test: it proves SLACK_BOT_TOKEN and primes Bolt with its answer."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

    from bot.services import Services

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


async def check_slack_auth(services: Services) -> bool:
    """The one auth.test of a start: it proves SLACK_BOT_TOKEN, and its answer primes Bolt
    (bot.app.build_app) so that no request ever waits for auth.test. A refused token is a
    ConfigError naming SLACK_BOT_TOKEN; Slack unreachable is logged, and Bolt or /readyz
    try again later. Returns whether Slack said yes."""
    from slack_sdk.errors import SlackApiError

    from bot.slack_client import share_connections

    share_connections(services.client)  # the start's first Slack call: pool from here on
    if services.slack_auth is not None:
        return True
    try:
        response = await services.client.auth_test()
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
    services.slack_auth = response
    for app in services.bolt_apps:
        prime_authorization(app, response)
    log.info(
        "Slack auth ok: bot user %s in team %s", response.get("user_id"), response.get("team_id")
    )
    return True


def prime_authorization(app: AsyncApp, auth_test: Any) -> None:
    """Hand Bolt the start's auth.test answer. Bolt's single-team authorization calls
    auth.test until one has returned, so a burst right after a start made every ack wait
    for it (one call per request: 100 for one burst of 200). Bolt has no public setter;
    its middleware keeps the answer in `auth_test_result`."""
    from slack_bolt.middleware.authorization.async_single_team_authorization import (
        AsyncSingleTeamAuthorization,
    )

    for middleware in app._async_middleware_list:  # noqa: SLF001
        if isinstance(middleware, AsyncSingleTeamAuthorization):
            middleware.auth_test_result = auth_test
