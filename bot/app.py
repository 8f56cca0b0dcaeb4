"""Slack app wiring: the Bolt AsyncApp and the aiohttp web app that serves it."""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot import metrics
from bot.logs import new_request_id, set_request_id
from bot.services import Services
from bot.slack_auth import prime_authorization

log = logging.getLogger(__name__)

# One line per request (logger aiohttp.access): client, request line, status, bytes, seconds
# taken, user agent. aiohttp's default adds its own timestamp (every log line has one) and
# the Referer (Slack sends none): those two were a third of the line's cost, 16 us an ack.
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tf "%{User-Agent}i"'


def build_app(services: Services) -> AsyncApp:
    """process_before_response: the ack leaves as soon as a listener returns (facts.md §4);
    listeners ack first and hand the rest to services.tasks."""
    settings = services.settings
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=services.client,
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
    services.bolt_apps.append(app)
    if services.slack_auth is not None:
        prime_authorization(app, services.slack_auth)
    return app


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
        from bot.readiness import check

        report = await check(services)
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
    from bot.slack_auth import check_slack_auth

    await check_slack_auth(services)
    runner = web.AppRunner(
        build_web_app(build_app(services), services), access_log_format=ACCESS_LOG_FORMAT
    )
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner, int(runner.addresses[0][1])


async def stop_http(runner: web.AppRunner, services: Services) -> None:
    """Stop taking requests, let in-flight commands finish, then close everything."""
    from bot.lifecycle import shutdown

    await runner.shutdown()
    await shutdown(services)
    await runner.cleanup()
