"""The composition root: builds every long-lived part once, with constructor arguments,
wires the Slack side (handlers) in, and serves /slack/events, /healthz, /readyz and
/metrics. The only module of bot/ that imports handlers.

Also the start and the stop: what a crash left pending is recovered before the first
request, and in-flight work drains on the way out.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.access import Access
from bot.anchor import AnchorPoster
from bot.approvals import ApprovalService
from bot.audit import close_interrupted
from bot.calling_hours import CallingHours
from bot.config import Settings
from bot.control import Controller
from bot.dialer import DialerClient, DialerError
from bot.endpoint import QuietLog, SeenRequests, Signatures
from bot.logs import current_request_id, new_request_id, set_request_id
from bot.notify import Notifier
from bot.readiness import check as readiness_check
from bot.schedules import Scheduler
from bot.services import Services
from bot.slack_auth import SlackAuth
from bot.slack_client import make_client
from bot.tasks import BackgroundTasks
from bot.watch import Watcher
from store import Store

log = logging.getLogger(__name__)

# One line per request (logger aiohttp.access): client, request line, status, bytes, seconds
# taken, user agent. aiohttp's default adds its own timestamp (every log line has one) and
# the Referer (Slack sends none).
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tf "%{User-Agent}i"'
# How long an ack waits for the seen-requests INSERT before relying on this process's own
# record (bot/endpoint.py SeenRequests): a locked database must not hold acks.
SEEN_WAIT_S = 0.3

# Pending connections the listening socket queues (see start_http).
LISTEN_BACKLOG = 1024


def build_services(
    settings: Settings,
    *,
    dialer: DialerClient | None = None,
    store: Store | None = None,
    client: AsyncWebClient | None = None,
) -> Services:
    """Everything, once, from settings; tests pass their own dialer, store or client.

    The Slack side comes in as constructor arguments: how the watcher's events read
    (handlers/subscriptions), the App Home publisher that hears them, how expired approvals and
    due schedules are shown. Nothing is set on a part after it is built."""
    from handlers.approvals.listeners import update_expired
    from handlers.home.publisher import HomePublisher
    from handlers.schedules.listeners import announce
    from handlers.subscriptions.views import Views as WatchViews

    if dialer is None:
        settings.check_dialer_auth()
        dialer = DialerClient(
            settings.dialer_api_url,
            settings.dialer_auth_url,
            username=settings.dialer_username,
            password=_secret(settings.dialer_password),
            token=_secret(settings.dialer_token),
            connect_timeout=settings.dialer_connect_timeout,
            timeout=settings.dialer_timeout,
            max_answer_bytes=int(settings.dialer_max_answer_mb * 1024 * 1024),
            paths=settings.paths,
            on_response=metrics.observe_dialer,
        )
    # Audit rows name the request they came from.
    store = store or Store(settings.database_path, request_id_source=current_request_id)
    client = client or make_client(settings)
    tasks = BackgroundTasks()
    calling_hours = CallingHours(
        store,
        dialer,
        permitted=settings.permitted_hours,
        bot_zone=settings.bot_timezone,
        enforce=settings.calling_hours_enforce,
    )
    controller = Controller(dialer, store, calling_hours, resolve_s=settings.dialer_resolve_seconds)
    access = Access(store, settings.admin_ids)
    notifier = Notifier(client, store, settings.notify_channel)
    home = HomePublisher(
        store=store,
        client=client,
        access=access,
        dialer=dialer,
        tasks=tasks,
        watch_interval=settings.dialer_watch_interval,
        timezone=settings.bot_timezone,
    )
    return Services(
        settings=settings,
        dialer=dialer,
        store=store,
        client=client,
        notifier=notifier,
        tasks=tasks,
        access=access,
        controller=controller,
        approvals=ApprovalService(
            store,
            controller,
            settings.approval_ttl,
            on_expired=functools.partial(update_expired, client),
        ),
        scheduler=Scheduler(
            store,
            dialer,
            controller,
            access,
            settings.schedule_grace,
            announce=functools.partial(announce, notifier, store),
        ),
        watcher=Watcher(
            dialer,
            store,
            notifier,
            settings.dialer_watch_interval,
            views=WatchViews(),
            on_events=home.on_events,
        ),
        slack_auth=SlackAuth(client),
        anchor=AnchorPoster(
            store, client, settings.anchor_channel, settings.audit_anchor_hours * 3600
        ),
        loop_lag=metrics.LoopLag(),
        home=home,
    )


def _secret(value: object) -> str | None:
    return value.get_secret_value() if value is not None else None  # type: ignore[attr-defined]


def build_app(services: Services) -> AsyncApp:
    """process_before_response: the ack leaves as soon as a listener returns; listeners
    ack first and hand the rest to services.tasks. ``authorize`` hands every request the
    start's one auth.test answer; Bolt gets the bot's client without its token, since a
    token and authorize= are either-or (the answer carries the token)."""
    slack_auth = services.slack_auth

    async def authorize() -> Any:
        return await slack_auth.authorize()

    app = AsyncApp(
        client=_tokenless(services.client),
        authorize=authorize,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        # /slack/events checks the signature on the raw bytes before Bolt sees the
        # request (build_web_app); Socket Mode requests carry none.
        request_verification_enabled=False,
    )

    @app.error
    async def _on_error(error: Exception, request: AsyncBoltRequest) -> BoltResponse | None:
        """A listener that fails on what a payload held is answered 400 with one log line
        naming where; a fault of the bot's own (Slack, the file, the dialer) keeps its
        traceback and its 500. An ack already given stands."""
        if not isinstance(error, INPUT_ERRORS):
            log.error("unhandled error in a listener (%s)", type(error).__name__, exc_info=error)
            return None
        log.warning(
            "a listener could not use a %s payload: %s at %s",
            metrics.ack_kind(request.body),
            type(error).__name__,
            _where(error),
        )
        acked = request.context.ack.response
        return acked if acked is not None else BoltResponse(status=400, body="")

    from handlers import register

    register(app, services)
    return app


# What a listener raises when a payload held something it did not expect: answered 400
# with one log line, no traceback (bot/app.py's error handler).
INPUT_ERRORS = (KeyError, TypeError, AttributeError, IndexError, ValueError, RecursionError)


def _where(error: BaseException) -> str:
    """file:line of the innermost frame, for a one-line log naming where it failed."""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 2)[-1]}:{tb.tb_lineno}"


def _tokenless(client: AsyncWebClient) -> AsyncWebClient:
    """The client's settings and shared connections, no token: Bolt's per-request clients
    take the token from authorize's answer."""
    return AsyncWebClient(
        base_url=client.base_url,
        timeout=client.timeout,
        session=client.session,
        retry_handlers=client.retry_handlers,
    )


def build_web_app(app: AsyncApp, services: Services) -> web.Application:
    """POST /slack/events for Slack, GET /healthz for the platform's health checks."""
    from handlers.payload import Malformed, bolt_request
    from handlers.payload import problem as payload_problem

    secret = services.settings.slack_signing_secret
    signatures = Signatures(secret.get_secret_value()) if secret else None
    refused, malformed, replayed = QuietLog(log), QuietLog(log), QuietLog(log)
    seen = SeenRequests(services.store, SEEN_WAIT_S)

    async def slack_events(request: web.Request) -> web.Response:
        """Signature on the raw bytes, then the body's shape, then replay, then Bolt.

        Nothing reads the body before its signature is checked, and nothing a request
        holds can make this answer 5xx: refused 401, unreadable 400, a replay 200 with
        nothing done."""
        started = time.perf_counter()
        if services.tasks.closing:
            return web.Response(status=503, text="shutting down")
        raw = await request.read()
        if signatures is not None:
            why = signatures.problem(raw, request.headers)
            if why is not None:
                refused.warning("refused a request to /slack/events with 401: %s", why)
                return web.Response(status=401, text="invalid signature")
        try:
            bolt_req = bolt_request(raw, request.query_string, request.headers)
            why = payload_problem(bolt_req.body)
        except Malformed as exc:
            why = str(exc)
        if why is not None:
            malformed.warning("refused a signed request with 400: %s", why)
            return web.Response(status=400, text="malformed request")
        if signatures is not None:
            # A copy is answered 200 with nothing done, not 401: its signature is good,
            # and a copy that reaches the bot is most often one delivery sent twice on the
            # way (a proxy retrying); the first did the work, so neither Slack nor the user
            # should see an error.
            first = await seen.first_sight(
                request.headers["X-Slack-Signature"],
                int(request.headers["X-Slack-Request-Timestamp"]),
            )
            if not first:
                replayed.warning("a signed request seen before was not acted on again")
                return web.Response(status=200)
        set_request_id(new_request_id())  # this task's context: its logs and audit rows
        try:
            bolt_resp = await app.async_dispatch(bolt_req)
        except INPUT_ERRORS as exc:  # Bolt's own matchers, on a shape the checks let by
            malformed.warning(
                "refused a signed request with 400: %s at %s", type(exc).__name__, _where(exc)
            )
            return web.Response(status=400, text="malformed request")
        if bolt_resp.status == 404:
            # Nobody listens (Bolt says 404): an ack all the same. Slack shows a 404 to
            # the user as an error, and turns off an event subscription that keeps failing.
            bolt_resp = BoltResponse(status=200, body="")
        response = await to_aiohttp_response(bolt_resp)
        metrics.observe_ack(metrics.ack_kind(bolt_req.body), time.perf_counter() - started)
        return response

    async def healthz(_: web.Request) -> web.Response:
        """Liveness: the process answers. Dependencies are /readyz's business."""
        return web.json_response({"ok": True, "in_flight": len(services.tasks)})

    async def metrics_page(_: web.Request) -> web.Response:
        body = await metrics.render(services)
        return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})

    async def readyz(_: web.Request) -> web.Response:
        report = await readiness_check(services)
        return web.json_response(report, status=200 if report["ready"] else 503)

    web_app = web.Application()
    web_app.add_routes(
        [
            web.post("/slack/events", slack_events),
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
            web.get("/metrics", metrics_page),
        ]
    )
    return web_app


async def start_http(services: Services, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve the bot as `dialer-bot serve` does; returns the runner and the bound port
    (port 0 picks a free one, for tests and benchmarks). The start's auth.test comes
    first (once: `serve` has made it already), so no request waits for it."""
    await services.slack_auth.check()
    runner = web.AppRunner(
        build_web_app(build_app(services), services), access_log_format=ACCESS_LOG_FORMAT
    )
    await runner.setup()
    # Slack opens a connection per request; right after a start (a deploy in a busy hour)
    # aiohttp's default queue of 128 pending connections overflowed, and each dropped
    # connection cost its sender a retry a second later.
    await web.TCPSite(runner, host, port, backlog=LISTEN_BACKLOG).start()
    return runner, int(runner.addresses[0][1])


async def stop_http(runner: web.AppRunner, services: Services) -> None:
    """Stop taking requests, let in-flight commands finish, then close everything."""
    await runner.shutdown()
    await shutdown(services)
    await runner.cleanup()


# ---- start and stop ------------------------------------------------------------------


@dataclass(frozen=True)
class Recovered:
    """A request whose dialer answer was never recorded, with the campaign's state now."""

    entry: Any
    current_state: str | None
    campaign_name: str | None


async def recover_pending(services: Services) -> list[Recovered]:
    """Mark leftover pending audit entries unknown and read each campaign's state now."""
    entries = await close_interrupted(services.store)
    # One read per campaign, and none after the dialer proved unreachable: a crash with
    # hundreds of commands in flight must not hold start-up (and /healthz) for minutes.
    seen: dict[int, tuple[str | None, str | None]] = {}
    reachable = True
    found: list[Recovered] = []
    for entry in entries:
        state = name = None
        if entry.campaign_id is not None:
            cid = int(entry.campaign_id)
            if cid not in seen:
                seen[cid] = (None, None)
                if reachable:
                    try:
                        campaign = await services.dialer.get_campaign(cid)
                        seen[cid] = (campaign.state, campaign.name)
                    except DialerError as exc:
                        seen[cid] = ("removed" if exc.status == 404 else None, None)
                        reachable = exc.status is not None
            state, name = seen[cid]
        found.append(Recovered(entry, state, name))
    if found:
        log.warning("%d audit entries were left pending by a crash and are now unknown", len(found))
    return found


async def startup(services: Services) -> None:
    """Before the first request: recover what a crash left, start the periodic parts."""
    from bot.slack_client import share_connections
    from handlers.control.views import recovery_message

    share_connections(services.client)  # also when no auth.test came first (the demo)
    recovered = await recover_pending(services)
    if recovered:
        await services.notifier.publish(**recovery_message(recovered))
    services.notifier.kick()  # deliver what a previous run left in the outbox
    services.anchor.start()
    services.loop_lag.start()
    # Expire approval requests nobody answered, also those left from a previous run.
    services.approvals.start_sweeper()
    # Run due schedules; those missed while the bot was down run now if inside the grace.
    services.scheduler.start()
    services.watcher.start()  # DIALER_WATCH_INTERVAL=0: does nothing


async def shutdown(services: Services, grace_s: float = 10.0) -> None:
    """Let in-flight commands finish (up to grace_s), flush notifications, close everything."""
    await services.watcher.aclose()  # hand the lease over at once; polls stop queueing
    await services.tasks.close(grace_s)
    try:
        await services.notifier.wait_idle(timeout=2.0)
    except TimeoutError:
        log.warning("some notifications are still in the outbox; they go out on next start")
    await services.anchor.aclose()  # anchor what this run wrote, while Slack is open
    await services.aclose()


def install_signal_handlers(stop: asyncio.Event) -> None:
    import signal

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
