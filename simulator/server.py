"""Voipex dialer API simulator: an in-memory, strict stand-in for ipbxapi.voipex.io.

Run it:
    dialer-bot simulator --port 8081
    python -m simulator.server --port 8081 [--username U --password P --token-lifetime S --no-seed]

Demo credentials (defaults): username ``demo@example.com``, password ``demo``.
Token URL: ``http://127.0.0.1:8081/token`` (form: client_id=api&grant_type=password&username=..
&password=..). API calls need ``Authorization: Bearer <access_token>``.

Admin endpoints for tests (no auth), under ``/_sim``: POST/GET/DELETE ``/_sim/faults``,
GET/DELETE ``/_sim/requests``, POST ``/_sim/expire-tokens``, GET ``/_sim/state``,
PUT ``/_sim/campaigns/{id}/state`` ``{"state": ...}`` (a change made outside Slack).

It exists so the bot can be developed and tested without a real dialer account, and so tests
can break the dialer on purpose (latency, error statuses, dropped connections).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from simulator.admin import add_admin_routes
from simulator.auth import TokenStore, token_endpoint
from simulator.dialects import DIALECTS, make_dialect
from simulator.faults import FaultInjector
from simulator.state import CONTROL_MESSAGES, SimulatorState, TransitionError, build_state
from simulator.validation import (
    ValidationError,
    validate_call_list,
    validate_campaign,
    validate_command,
)

DEMO_USERNAME = "demo@example.com"
DEMO_PASSWORD = "demo"
# The call-list detail shows its first numbers (the real API's paging is not known).
DETAIL_NUMBERS = 100
# Big enough for a call list of 1,000,000 numbers.
MAX_BODY_BYTES = 256 * 1024 * 1024
INVALID_TOKEN = "Invalid or expired token"

# Per-request storage for the parsed body (typed keys where aiohttp offers them).
_RequestKey: Any = getattr(web, "RequestKey", None)
JSON_KEY: Any = _RequestKey("json", object) if _RequestKey else "sim_json"
JSON_ERROR_KEY: Any = _RequestKey("json_error", object) if _RequestKey else "sim_json_error"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class SimulatorConfig:
    """How to run the simulator; port=0 picks a free port."""

    host: str = "127.0.0.1"
    port: int = 8081
    username: str = DEMO_USERNAME
    password: str = DEMO_PASSWORD
    token_lifetime: float = 3000
    refresh_lifetime: float | None = None  # default: 2.4 x token_lifetime (7200 s for 3000 s)
    seed: bool = True
    static_token: str | None = None  # a long-lived API token some deployments hand out
    dialect: str = "guide"  # or "v2": another plausible reading of the guide (dialects.py)
    clock: Callable[[], float] = field(default=time.monotonic)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"message": message, **extra}, status=status)


class _Simulator:
    """The aiohttp application plus the state its handlers share."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.dialect = make_dialect(config.dialect)
        self.state: SimulatorState = build_state(seed=config.seed, dialect=self.dialect)
        self.faults = FaultInjector()
        self.requests: list[dict[str, Any]] = []
        self.tokens = TokenStore(
            username=config.username,
            password=config.password,
            lifetime=config.token_lifetime,
            refresh_lifetime=config.refresh_lifetime,
            clock=config.clock,
            static_token=config.static_token,
        )
        self.sleeping: set[asyncio.Task[Any]] = set()
        self.app = self._build_app()

    # ---- app wiring ---------------------------------------------------------------------
    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=MAX_BODY_BYTES)
        r = app.router
        r.add_post("/token", self.token)
        r.add_get("/ivr", self.list_ivr)
        r.add_get("/dialer/call-lists", self.list_call_lists)
        r.add_post("/dialer/call-lists", self.create_call_list)
        r.add_get("/dialer/call-lists/{id}", self.get_call_list)
        r.add_get("/dialer/campaigns", self.list_campaigns)
        r.add_post("/dialer/campaigns", self.create_campaign)
        r.add_get("/dialer/campaigns/{id}", self.get_campaign)
        r.add_put("/dialer/campaigns/{id}", self.update_campaign)
        r.add_put("/dialer/campaigns/{id}/control", self.control_campaign)
        add_admin_routes(app, self)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Log, inject faults, check the bearer token, and turn every error into JSON."""
        if request.path.startswith("/_sim/"):
            return await self._json_errors(request, handler)
        await self._parse_body(request)
        entry: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "json": request[JSON_KEY],
            "ts": time.time(),
            "status": None,
        }
        self.requests.append(entry)
        plan = self.faults.plan(request.path)
        if plan.latency > 0:
            await self._sleep(plan.latency)
        if plan.drop:
            # With the transport closed aiohttp cannot write this placeholder: no answer at all.
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=499)
        if plan.login_page:  # a single sign-on proxy in front: the dialer never sees it
            response = web.Response(text=LOGIN_PAGE, content_type="text/html")
        elif plan.status is not None:
            response = _error(plan.status, f"Simulated fault: HTTP {plan.status}")
            if plan.retry_after is not None:
                response.headers["Retry-After"] = str(plan.retry_after)
        elif request.path != "/token" and not self._authorised(request):
            response = _error(401, INVALID_TOKEN)
            response.headers["WWW-Authenticate"] = 'Bearer realm="voipex"'
        else:
            response = await self._json_errors(request, handler)
            if plan.after_status is not None:  # carried out; the gateway gave up meanwhile
                response = web.Response(
                    status=plan.after_status,
                    text=gateway_page(plan.after_status),
                    content_type="text/html",
                )
            elif plan.huge_mb > 0 and isinstance(response, web.Response):
                response = padded(response, plan.huge_mb)
        entry["status"] = response.status
        if plan.drip > 0 and isinstance(response, web.Response):
            return await self._drip(request, response, plan.drip)
        return response

    async def _drip(
        self, request: web.Request, response: web.Response, per_second: float
    ) -> web.StreamResponse:
        """Send the answer's body a few bytes at a time: a slow link or a stuck proxy."""
        body = response.body if isinstance(response.body, bytes) else b""
        slow = web.StreamResponse(status=response.status, headers=response.headers)
        slow.content_length = len(body)
        await slow.prepare(request)
        step = max(1, int(per_second / 10))  # ten writes a second
        for at in range(0, len(body), step):
            await slow.write(body[at : at + step])
            await self._sleep(step / per_second)
        await slow.write_eof()
        return slow

    async def _sleep(self, seconds: float) -> None:
        """Non-blocking latency; stop() cancels it so shutdown never waits for it."""
        task = asyncio.current_task()
        assert task is not None
        self.sleeping.add(task)
        try:
            await asyncio.sleep(seconds)
        finally:
            self.sleeping.discard(task)

    async def _json_errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ValidationError as exc:
            return self.dialect.validation_error(exc.errors)
        except web.HTTPException as exc:
            if exc.status == 404:
                return _error(404, f"Not found: {request.method} {request.path}")
            if exc.status == 405:
                return _error(405, f"Method {request.method} not allowed on {request.path}")
            if exc.status == 413:
                return _error(413, "body: request body too large")
            return _error(exc.status, exc.reason)

    async def _parse_body(self, request: web.Request) -> None:
        """Parse a JSON body once, for the handler and the request log."""
        request[JSON_KEY] = None
        request[JSON_ERROR_KEY] = None
        if request.path == "/token" or not request.can_read_body:
            return
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            request[JSON_ERROR_KEY] = "body: request body too large"
            return
        if not raw:
            return
        try:
            request[JSON_KEY] = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            request[JSON_ERROR_KEY] = "body: invalid JSON"

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and bool(token) and self.tokens.access_valid(token)

    @staticmethod
    def _body(request: web.Request) -> Any:
        if request[JSON_ERROR_KEY]:
            raise ValidationError([request[JSON_ERROR_KEY]])
        if request[JSON_KEY] is None:
            raise ValidationError(["body: a JSON object is required"])
        return request[JSON_KEY]

    async def token(self, request: web.Request) -> web.Response:
        return await token_endpoint(self.tokens, request)

    # ---- API ----------------------------------------------------------------------------
    async def list_ivr(self, request: web.Request) -> web.Response:
        return self.dialect.listing(request, "ivr", list(self.state.ivr.values()))

    async def list_call_lists(self, request: web.Request) -> web.Response:
        return self.dialect.listing(request, "call_list", list(self.state.call_lists.values()))

    async def get_call_list(self, request: web.Request) -> web.Response:
        raw_id = request.match_info["id"]
        record = self.state.call_lists.get(int(raw_id)) if raw_id.isdigit() else None
        if record is None:
            return _error(404, f"Call list {raw_id} not found")
        numbers = self.state.call_list_numbers.get(record["id"], [])[:DETAIL_NUMBERS]
        return web.json_response({**self.dialect.present("call_list", record), "numbers": numbers})

    async def create_call_list(self, request: web.Request) -> web.Response:
        name, numbers = validate_call_list(self._body(request))
        record = self.state.add_call_list(name, numbers)
        return self.dialect.created(
            {
                "id": record["id"],
                "message": "Call list successfully created",
                "numbersCount": record["numbersCount"],
            }
        )

    async def list_campaigns(self, request: web.Request) -> web.Response:
        """With an ETag, so that a poller's If-None-Match gets 304 while nothing changed."""
        response = self.dialect.listing(request, "campaign", list(self.state.campaigns.values()))
        body = response.body if isinstance(response.body, bytes) else b""
        etag = '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        response.headers["ETag"] = etag
        return response

    def _campaign_id(self, request: web.Request) -> int | web.Response:
        raw_id = request.match_info["id"]
        if not raw_id.isdigit() or int(raw_id) not in self.state.campaigns:
            return _error(404, f"Campaign {raw_id} not found")
        return int(raw_id)

    async def get_campaign(self, request: web.Request) -> web.Response:
        found = self._campaign_id(request)
        if isinstance(found, web.Response):
            return found
        return web.json_response(self.dialect.present("campaign", self.state.campaigns[found]))

    async def create_campaign(self, request: web.Request) -> web.Response:
        body = validate_campaign(self._body(request), self.state)
        record = self.state.add_campaign(body)
        return self.dialect.created(
            {"id": record["id"], "message": "Campaign successfully created"}
        )

    async def update_campaign(self, request: web.Request) -> web.Response:
        found = self._campaign_id(request)
        if isinstance(found, web.Response):
            return found
        body = validate_campaign(self._body(request), self.state, campaign_id=found)
        self.state.update_campaign(found, body)
        return self.dialect.updated(found)

    async def control_campaign(self, request: web.Request) -> web.Response:
        found = self._campaign_id(request)
        if isinstance(found, web.Response):
            return found
        command = validate_command(self._body(request))
        current = self.state.campaigns[found]["state"]
        try:
            new_state = self.state.control(found, command)
        except TransitionError as exc:
            return _error(409, str(exc), state=current, command=command)
        return self.dialect.control_answer(found, CONTROL_MESSAGES[command], new_state)


LOGIN_PAGE = """<!DOCTYPE html>
<html><head><title>Sign in - Voipex SSO</title></head>
<body><form method="post" action="/sso/login"><input name="username">
<input name="password" type="password"><button>Sign in</button></form></body></html>
"""
# One entry of the padding a huge answer carries: shaped like a call list's numbers.
PADDING_ITEM = b'{"number":"+420601000000","attributes":[]},'


def gateway_page(status: int) -> str:
    """What nginx-like gateways answer when the upstream failed them."""
    name = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}
    title = f"{status} {name.get(status, 'Error')}"
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>\n"


def padded(response: web.Response, mb: float) -> web.Response:
    """The JSON object answer with a "padding" list making it about ``mb`` MB. Built by
    repeating bytes, not by json.dumps, so the simulator's own loop is not held."""
    body = response.body if isinstance(response.body, bytes) else b""
    if not body.rstrip().endswith(b"}"):
        return response
    count = int(mb * 1024 * 1024) // len(PADDING_ITEM)
    head = body.rstrip()[:-1].rstrip()
    joiner = b"," if not head.endswith(b"{") else b""
    items = PADDING_ITEM * count + b'{"number":"+420601000001","attributes":[]}'
    big = head + joiner + b'"padding":[' + items + b"]}"
    return web.Response(
        status=response.status, body=big, content_type="application/json", headers=None
    )


class RunningSimulator:
    """A started simulator: its URLs, its state, its fault injector and request log."""

    def __init__(self, sim: _Simulator, runner: web.AppRunner, url: str) -> None:
        self._sim = sim
        self._runner = runner
        self.url = url
        self.auth_url = url + "/token"
        self.state: SimulatorState = sim.state
        self.faults: FaultInjector = sim.faults
        self.requests: list[dict[str, Any]] = sim.requests
        self.tokens: TokenStore = sim.tokens
        self.config = sim.config
        self.dialect = sim.dialect
        self._stopped = False

    async def stop(self) -> None:
        """Stop serving; requests sleeping on injected latency are cancelled, not awaited."""
        if self._stopped:
            return
        self._stopped = True
        for task in list(self._sim.sleeping):
            task.cancel()
        await self._runner.cleanup()

    async def __aenter__(self) -> RunningSimulator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def start_simulator(config: SimulatorConfig | None = None) -> RunningSimulator:
    """Start serving on config.host:config.port (port 0: a free port) and return at once."""
    config = config or SimulatorConfig()
    sim = _Simulator(config)
    runner = web.AppRunner(sim.app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    port = config.port
    server = getattr(site, "_server", None)
    if server is not None and server.sockets:
        port = server.sockets[0].getsockname()[1]
    host = config.host if ":" not in config.host else f"[{config.host}]"
    return RunningSimulator(sim, runner, f"http://{host}:{port}")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="dialer-bot simulator", description="Run the Voipex dialer API simulator."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port (default 8081, 0 = any)")
    parser.add_argument("--username", default=DEMO_USERNAME, help="demo user name")
    parser.add_argument("--password", default=DEMO_PASSWORD, help="demo password")
    parser.add_argument(
        "--token-lifetime", type=float, default=3000, help="access token lifetime in seconds"
    )
    parser.add_argument("--no-seed", action="store_true", help="start without demo data")
    parser.add_argument("--api-token", default=None, help="also accept this static API token")
    parser.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="guide",
        help="guide: the simulator's own reading of the guide (default); v2: upper-case "
        "states, wrapped and paged lists, 204 control answers, class-validator 400s",
    )
    return parser.parse_args(argv)


async def _serve(config: SimulatorConfig) -> None:
    sim = await start_simulator(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    print(
        f"Voipex dialer simulator ({config.dialect} dialect) at {sim.url} "
        f"(token URL {sim.auth_url}); "
        f"demo login: username {config.username} password {config.password}",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until Ctrl-C or SIGTERM."""
    args = _parse_args(argv)
    if args.token_lifetime <= 0:
        print("--token-lifetime must be > 0", file=sys.stderr)
        return 2
    config = SimulatorConfig(
        host=args.host,
        port=args.port,
        username=args.username,
        password=args.password,
        token_lifetime=args.token_lifetime,
        seed=not args.no_seed,
        static_token=args.api_token,
        dialect=args.dialect,
    )
    try:
        asyncio.run(_serve(config))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"Cannot start the simulator: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
