"""Slack's Socket Mode side, on 127.0.0.1, for tests that run the real AsyncSocketModeHandler.

What slack_sdk's aiohttp SocketModeClient does against Slack (slack_sdk 3.48):
POST apps.connections.open with the app-level token (xapp-...) to the Web API base URL
→ `{"ok": true, "url": "wss://..."}`; ws_connect to that URL; Slack sends
`{"type": "hello", ...}` first, then envelopes `{"envelope_id", "type", "payload",
"accepts_response_payload"}`; the client acks each with `{"envelope_id", "payload"?}` on the
same socket. `{"type": "disconnect", "reason": ...}` makes it fetch a new URL and reconnect.

The bot's AsyncWebClient has one base URL for every method, so this server takes that URL:
it answers apps.connections.open itself and forwards every other /api/* call unchanged to
the tests' FakeSlack, which records them as usual. Neither FakeSlack nor the product's
Slack stand-in needs to know Socket Mode exists.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

#: Headers worth forwarding both ways; hop-by-hop ones (length, encoding) aiohttp sets itself.
_FORWARD_REQUEST = ("Authorization", "Content-Type")
_FORWARD_RESPONSE = ("Retry-After",)


@dataclass
class Connection:
    """One websocket the client opened; `received` is every JSON message it sent."""

    number: int
    ws: web.WebSocketResponse
    received: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False


class SocketModeServer:
    """apps.connections.open, the Socket Mode websocket, envelopes out and acks in."""

    def __init__(self, upstream_api_url: str, app_token: str, app_id: str = "A0001") -> None:
        self.upstream_api_url = upstream_api_url.rstrip("/") + "/"
        self.app_token = app_token
        self.app_id = app_id
        #: Every apps.connections.open call: {"ok": bool, "error"?: str}.
        self.opens: list[dict[str, Any]] = []
        self.connections: list[Connection] = []
        #: envelope_id → the client's ack message, for every ack received.
        self.acks: dict[str, dict[str, Any]] = {}
        #: Acks for envelope ids never pushed, or a second ack for one: both are bugs.
        self.unexpected_acks: list[dict[str, Any]] = []
        self._tickets: set[str] = set()
        self._pushed: set[str] = set()
        self._envelope_seq = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.base_url = ""

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> SocketModeServer:
        app = web.Application()
        app.router.add_post("/api/apps.connections.open", self._connections_open)
        app.router.add_route("*", "/api/{method}", self._forward)
        app.router.add_get("/link/", self._websocket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._http = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        """Close open sockets (as Slack does when it goes away), the server and the proxy."""
        for conn in self.open_connections():
            await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    @property
    def api_url(self) -> str:
        """SLACK_API_URL for the bot: Socket Mode here, everything else reaches FakeSlack."""
        return f"{self.base_url}/api/"

    def open_connections(self) -> list[Connection]:
        return [c for c in self.connections if not c.closed]

    # ---------------------------------------------------------------- what tests call

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        what: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - harness API, like FakeSlack.wait_for
    ) -> None:
        """Return once predicate() holds; woken by every open, close and ack (no polling)."""
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
        except TimeoutError:
            raise AssertionError(
                f"waited {timeout}s for {what}; opens={self.opens} "
                f"connections={[(c.number, c.closed) for c in self.connections]} "
                f"acks={list(self.acks)}"
            ) from None

    async def wait_connected(self, count: int = 1, timeout: float = 5.0) -> Connection:  # noqa: ASYNC109
        """Wait until `count` sockets were opened in all and one is open; return the newest."""
        await self.wait_until(
            lambda: len(self.connections) >= count and bool(self.open_connections()),
            f"connection #{count}",
            timeout,
        )
        return self.open_connections()[-1]

    async def wait_all_closed(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await self.wait_until(lambda: not self.open_connections(), "every socket closed", timeout)

    async def push(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = True,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> str:
        """Send an envelope on the newest open socket (waiting for one); returns its id."""
        conn = await self.wait_connected(timeout=timeout)
        envelope_id = f"{next(self._envelope_seq):04d}-{secrets.token_hex(8)}"
        self._pushed.add(envelope_id)
        await conn.ws.send_json(
            {
                "envelope_id": envelope_id,
                "type": envelope_type,
                "payload": payload,
                "accepts_response_payload": accepts_response_payload,
            }
        )
        return envelope_id

    async def ack_for(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The client's ack of one envelope, once it arrives."""
        await self.wait_until(lambda: envelope_id in self.acks, f"ack of {envelope_id}", timeout)
        return self.acks[envelope_id]

    async def request(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """push() then ack_for(): what Slack sees of one command or click."""
        return await self.ack_for(await self.push(envelope_type, payload), timeout)

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect, as Slack does every few hours ("warning" first)."""
        conn = await self.wait_connected()
        await conn.ws.send_json(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
        )

    # ---------------------------------------------------------------- HTTP

    async def _connections_open(self, request: web.Request) -> web.Response:
        """Slack wants the app-level token here; a bot token gets not_allowed_token_type."""
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        if not token:
            body: dict[str, Any] = {"ok": False, "error": "not_authed"}
        elif not token.startswith("xapp-"):
            body = {"ok": False, "error": "not_allowed_token_type"}
        elif not hmac.compare_digest(token.encode(), self.app_token.encode()):
            body = {"ok": False, "error": "invalid_auth"}
        else:
            ticket = secrets.token_hex(16)
            self._tickets.add(ticket)
            ws_base = self.base_url.replace("http://", "ws://", 1)
            body = {"ok": True, "url": f"{ws_base}/link/?ticket={ticket}&app_id={self.app_id}"}
        async with self._changed:
            self.opens.append({k: v for k, v in body.items() if k != "url"})
            self._changed.notify_all()
        return web.json_response(body)

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        headers = {h: request.headers[h] for h in _FORWARD_REQUEST if h in request.headers}
        url = self.upstream_api_url + request.match_info["method"]
        async with self._http.request(
            request.method, url, data=await request.read(), headers=headers, params=request.query
        ) as upstream:
            out = {h: upstream.headers[h] for h in _FORWARD_RESPONSE if h in upstream.headers}
            return web.Response(
                status=upstream.status,
                body=await upstream.read(),
                content_type=upstream.content_type,
                headers=out,
            )

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)  # a ticket opens one socket, as Slack's do
        ws = web.WebSocketResponse()  # answers the client's pings (it sets autoping=False)
        await ws.prepare(request)
        conn = Connection(len(self.connections) + 1, ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self.open_connections()) + 1,
                "debug_info": {
                    "host": "applink-fake",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
        )
        async with self._changed:
            self.connections.append(conn)
            self._changed.notify_all()
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    await self._received(conn, json.loads(msg.data))
        finally:
            async with self._changed:
                conn.closed = True
                self._changed.notify_all()
        return ws

    async def _received(self, conn: Connection, message: dict[str, Any]) -> None:
        async with self._changed:
            conn.received.append(message)
            envelope_id = message.get("envelope_id")
            if envelope_id in self._pushed and envelope_id not in self.acks:
                self.acks[envelope_id] = message
            else:
                self.unexpected_acks.append(message)
            self._changed.notify_all()
