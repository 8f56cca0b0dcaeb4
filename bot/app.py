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
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.access import Access
from bot.anchor import AnchorPoster
from bot.approvals import ApprovalService
from bot.config import Settings
from bot.control import Controller
from bot.dialer import DialerClient, DialerError
from bot.logs import current_request_id, new_request_id, set_request_id
from bot.looplag import LoopLag
from bot.notify import Notifier
from bot.readiness import check as readiness_check
from bot.schedule import Scheduler
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


def build_services(
    settings: Settings,
    *,
    dialer: DialerClient | None = None,
    store: Store | None = None,
    client: AsyncWebClient | None = None,
) -> Services:
    """Everything, once, from settings; tests pass their own dialer, store or client.

    The Slack side comes in as constructor arguments: how the watcher's events read
    (handlers/watch), the App Home publisher that hears them, how expired approvals and
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
    store = store or Store(settings.database_path)
    # Audit rows name the request they came from. (Still set here, not passed to Store:
    # store/ has no constructor argument for it yet.)
    store.audit.request_id_source = current_request_id
    client = client or make_client(settings)
    tasks = BackgroundTasks()
    controller = Controller(dialer, store, resolve_s=settings.dialer_resolve_seconds)
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
        loop_lag=LoopLag(),
        home=home,
    )


def _secret(value: object) -> str | None:
    return value.get_secret_value() if value is not None else None  # type: ignore[attr-defined]


def build_app(services: Services) -> AsyncApp:
    """process_before_response: the ack leaves as soon as a listener returns; listeners
    ack first and hand the rest to services.tasks. ``authorize`` hands every request the
    start's one auth.test answer; Bolt gets the bot's client without its token, since a
    token and authorize= are either-or (the answer carries the token)."""
    settings = services.settings
    secret = settings.slack_signing_secret
    slack_auth = services.slack_auth

    async def authorize() -> Any:
        return await slack_auth.authorize()

    app = AsyncApp(
        client=_tokenless(services.client),
        authorize=authorize,
        signing_secret=secret.get_secret_value() if secret else None,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        request_verification_enabled=secret is not None,
    )

    @app.error
    async def _on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error in a listener (%s)", type(error).__name__, exc_info=error)

    from handlers import register

    register(app, services)
    return app


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

    async def slack_events(request: web.Request) -> web.Response:
        started = time.perf_counter()
        if services.tasks.closing:
            return web.Response(status=503, text="shutting down")
        set_request_id(new_request_id())  # this task's context: its logs and audit rows
        bolt_req = await to_bolt_request(request)
        bolt_resp = await app.async_dispatch(bolt_req)
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
    await web.TCPSite(runner, host, port).start()
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
    audit = services.store.audit
    entries = await services.store.run(audit.mark_unknown_pending)
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
