"""Socket Mode: the bot connected to Slack over a websocket, for workspaces without a
public URL. One place for the wiring, used by `dialer-bot socket` and its tests.

The one patch onto a library object in the bot is here (_one_line_reconnects). It serves
the operator during a network or Slack outage: slack_sdk's SocketModeClient retries
apps.connections.open every ping_interval for ever and logs a 35-line traceback each time,
so an outage floods the log and hammers Slack. The bot logs one line per failed connect
(a logging.Filter, public API) and backs off 1, 2, 4 … 60 s by wrapping the client's
issue_new_wss_url. slack_sdk (3.48) offers no public hook for this: its on_message /
on_error / on_close listeners see websocket messages, not failed connects;
auto_reconnect_enabled only switches reconnecting off; the connect loop's sleep is the
fixed ping_interval; and a retry handler on the Web API client would back off inside one
call and hide the failures from the log. The first URL is fetched by the bot itself and
handed over through the client's public ``wss_uri`` attribute (_socket_url).
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import build_app, shutdown
from bot.config import ConfigError
from bot.services import Services

log = logging.getLogger(__name__)


class SocketMode:
    """`async with SocketMode(services, app_token):` connected inside; on the way out the
    socket is closed for good, then in-flight work drains (bot.app.shutdown)."""

    def __init__(self, services: Services, app_token: str) -> None:
        self.services = services
        self.app_token = app_token
        self.handler = AsyncSocketModeHandler(build_app(services), app_token)
        _one_line_reconnects(self.handler)

    async def __aenter__(self) -> SocketMode:
        try:
            self.handler.client.wss_uri = await _socket_url(self.services.client, self.app_token)
            await self.handler.connect_async()
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._close()

    async def _close(self) -> None:
        # close, not disconnect: disconnect_async only closes the socket, so the client's
        # monitor reconnects within ping_interval (while shutdown drains) and leaks its session.
        await self.handler.close_async()
        await shutdown(self.services)


MAX_BACKOFF_S = 60.0


class _Reconnects(logging.Filter):
    """slack_sdk logs each failed connect with logger.exception (a 35-line traceback every
    10 s with no network); this makes it one line naming the error and the next try."""

    def __init__(self, floor_s: float) -> None:
        super().__init__()
        self.floor_s = floor_s  # slack_sdk sleeps its ping interval between tries anyway
        self.failures = 0
        self.delay = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.getMessage().startswith("Failed to connect"):
            exc = record.exc_info[1]
            record.msg = "Socket Mode: connecting to Slack failed (%s); next try in %.0f s"
            record.args = (type(exc).__name__, max(self.delay, self.floor_s))
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        elif record.getMessage().startswith("Failed to retrieve WSS URL"):
            return False  # the line above says it, once
        return True


def _one_line_reconnects(handler: AsyncSocketModeHandler) -> None:
    """One log line per failed connect, and an exponential back-off (1, 2, 4 … 60 s) on
    top of slack_sdk's fixed ping-interval retry, so an outage is not hammered."""
    client = handler.client
    reconnects = _Reconnects(float(client.ping_interval))
    client.logger.addFilter(reconnects)
    issue = client.issue_new_wss_url

    async def issue_with_backoff() -> str:
        try:
            url = await issue()
        except Exception:
            reconnects.failures += 1
            reconnects.delay = min(MAX_BACKOFF_S, 2.0 ** (reconnects.failures - 1))
            await asyncio.sleep(max(0.0, reconnects.delay - client.ping_interval))
            raise
        reconnects.failures = 0
        reconnects.delay = 0.0
        return url

    client.issue_new_wss_url = issue_with_backoff  # type: ignore[method-assign]


# apps.connections.open errors that no retry fixes: the app token is wrong, revoked or a bot token.
_APP_TOKEN_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "not_allowed_token_type",
        "account_inactive",
        "token_revoked",
        "token_expired",
    }
)


async def _socket_url(client: AsyncWebClient, app_token: str) -> str | None:
    """The first Socket Mode URL, fetched here because slack_sdk's connect() retries a refused
    app token forever (a traceback every 10 s, never "connected"). None: let it retry."""
    from slack_sdk.errors import SlackApiError

    try:
        response = await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        error = exc.response.get("error")  # None for an HTML 5xx page
        if error in _APP_TOKEN_ERRORS:
            raise ConfigError(
                f"SLACK_APP_TOKEN was refused by Slack ({error}); it must be the app-level "
                "token (xapp-...) with the connections:write scope"
            ) from None
        log.warning(
            "apps.connections.open failed (%s); retrying", error or exc.response.status_code
        )
        return None
    except Exception as exc:  # noqa: BLE001 - Slack unreachable: slack_sdk's loop retries
        log.warning("apps.connections.open failed (%s); retrying", type(exc).__name__)
        return None
    return str(response["url"])
