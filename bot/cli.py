"""`dialer-bot serve | socket | simulator | demo | audit verify | audit export`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dialer-bot", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("serve", help="HTTP mode: POST /slack/events and GET /healthz on PORT")
    sub.add_parser("socket", help="Socket Mode with SLACK_APP_TOKEN (no public URL needed)")
    sim = sub.add_parser("simulator", help="run the Voipex dialer simulator", add_help=False)
    sim.add_argument("rest", nargs=argparse.REMAINDER)
    demo = sub.add_parser(
        "demo",
        help="try the bot in a terminal: /dialer lines, simulated Slack and dialer "
        "([--db PATH] [--as viewer|operator|admin] [--script FILE])",
        add_help=False,
    )
    demo.add_argument("rest", nargs=argparse.REMAINDER)
    audit = sub.add_parser("audit", help="verify or export the audit log")
    audit_sub = audit.add_subparsers(dest="audit_cmd", required=True)
    audit_sub.add_parser("verify", help="walk the hash chain; exit 1 at the first broken entry")
    export = audit_sub.add_parser("export", help="write the audit log for auditors")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("--since", help="ISO date or datetime (UTC), e.g. 2026-11-01")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["simulator"]:
        from simulator.server import main as simulator_main

        return simulator_main(argv[1:])
    if argv[:1] == ["demo"]:
        from bot.demo import main as demo_main

        return demo_main(argv[1:])
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings()
        if args.cmd == "serve":
            settings.require("slack_bot_token", "slack_signing_secret")
            settings.check_dialer_auth()
            asyncio.run(_serve(settings))
        elif args.cmd == "socket":
            # The app token first: it is what Socket Mode needs beyond a serve setup.
            settings.require("slack_app_token", "slack_bot_token")
            settings.check_dialer_auth()
            asyncio.run(_socket(settings))
        elif args.cmd == "audit":
            return _audit(settings, args)
    except ConfigError as exc:
        print(f"dialer-bot: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


async def _serve(settings: Settings) -> None:
    from aiohttp import web

    from bot.app import build_app, build_web_app
    from bot.lifecycle import install_signal_handlers, shutdown, startup
    from bot.services import Services

    services = Services.build(settings)
    await startup(services)
    runner = web.AppRunner(build_web_app(build_app(services), services))
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    log.info("dialer-bot listening on http://%s:%d/slack/events", settings.host, settings.port)
    stop = asyncio.Event()
    install_signal_handlers(stop)
    await stop.wait()
    log.info("stopping: finishing in-flight commands")
    await runner.shutdown()
    await shutdown(services)
    await runner.cleanup()


async def _socket(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.app import build_app
    from bot.lifecycle import install_signal_handlers, shutdown, startup
    from bot.services import Services

    services = Services.build(settings)
    await startup(services)
    assert settings.slack_app_token is not None
    app_token = settings.slack_app_token.get_secret_value()
    handler = AsyncSocketModeHandler(build_app(services), app_token)
    try:
        handler.client.wss_uri = await _socket_url(services.client, app_token)
        await handler.connect_async()
        log.info("dialer-bot connected in Socket Mode")
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await stop.wait()
    finally:
        # close, not disconnect: disconnect_async only closes the socket, so the client's
        # monitor reconnects within ping_interval (while shutdown drains) and leaks its session.
        await handler.close_async()
        await shutdown(services)


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


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from store import Store
    from store.db import parse_since

    # Opening creates the file: a mistyped path would report "0 entries, chain intact".
    if settings.database_path != ":memory:" and not Path(settings.database_path).is_file():
        raise ConfigError(f"DATABASE_PATH: no database at {settings.database_path}")
    if args.audit_cmd == "export" and args.since is not None:
        try:
            parse_since(args.since)
        except ValueError as exc:
            raise ConfigError(f"--{exc}") from None
    store = Store(settings.database_path)
    try:
        if args.audit_cmd == "verify":
            result = store.audit.verify()
            if result.ok:
                print(f"{result.count} entries, chain intact")
                return 0
            print(f"chain broken at entry {result.first_bad_id}: {result.reason}")
            return 1
        out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout  # noqa: SIM115
        try:
            for line in store.audit.export(args.format, since=args.since):
                out.write(line if line.endswith("\n") else line + "\n")
        finally:
            if out is not sys.stdout:
                out.close()
        return 0
    finally:
        store.close()
