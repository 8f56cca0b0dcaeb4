"""`dialer-bot serve | socket | doctor | simulator | demo | audit verify | audit export`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import ConfigError, Settings, load_settings

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dialer-bot", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("serve", help="HTTP mode: POST /slack/events and GET /healthz on PORT")
    sub.add_parser("socket", help="Socket Mode with SLACK_APP_TOKEN (no public URL needed)")
    sub.add_parser(
        "doctor",
        help="check the configured dialer and Slack read-only; run it first (exit 1: a problem)",
    )
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
        from bot.console.cli import main as demo_main

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
        elif args.cmd == "doctor":
            from bot.doctor import run_doctor

            logging.getLogger("httpx").setLevel(logging.WARNING)  # the report says it all
            return asyncio.run(run_doctor(settings))
        elif args.cmd == "audit":
            return _audit(settings, args)
    except ConfigError as exc:
        print(f"dialer-bot: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


async def _serve(settings: Settings) -> None:
    from bot.app import start_http, stop_http
    from bot.lifecycle import install_signal_handlers, startup
    from bot.services import Services

    services = Services.build(settings)
    await startup(services)
    runner, port = await start_http(services, settings.host, settings.port)
    log.info("dialer-bot listening on http://%s:%d/slack/events", settings.host, port)
    stop = asyncio.Event()
    install_signal_handlers(stop)
    await stop.wait()
    log.info("stopping: finishing in-flight commands")
    await stop_http(runner, services)


async def _socket(settings: Settings) -> None:
    from bot.lifecycle import install_signal_handlers, startup
    from bot.services import Services
    from bot.socket_mode import SocketMode

    services = Services.build(settings)
    await startup(services)
    assert settings.slack_app_token is not None
    async with SocketMode(services, settings.slack_app_token.get_secret_value()):
        log.info("dialer-bot connected in Socket Mode")
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await stop.wait()


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
