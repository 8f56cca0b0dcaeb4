"""Slack app wiring: the Bolt AsyncApp and the aiohttp web app that serves it."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.services import Services

log = logging.getLogger(__name__)


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
    return app


def build_web_app(app: AsyncApp, services: Services) -> web.Application:
    """POST /slack/events for Slack, GET /healthz for the platform's health checks."""

    async def slack_events(request: web.Request) -> web.Response:
        if services.tasks.closing:
            return web.Response(status=503, text="shutting down")
        bolt_resp = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_resp)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, "in_flight": len(services.tasks)})

    web_app = web.Application()
    web_app.add_routes([web.post("/slack/events", slack_events), web.get("/healthz", healthz)])
    return web_app


async def start_http(services: Services, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve the bot as `dialer-bot serve` does; returns the runner and the bound port
    (port 0 picks a free one, for tests and benchmarks)."""
    runner = web.AppRunner(build_web_app(build_app(services), services))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner, int(runner.addresses[0][1])


async def stop_http(runner: web.AppRunner, services: Services) -> None:
    """Stop taking requests, let in-flight commands finish, then close everything."""
    from bot.lifecycle import shutdown

    await runner.shutdown()
    await shutdown(services)
    await runner.cleanup()
