"""`dialer-bot serve | socket | doctor | simulator | demo | audit verify | audit export`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any

from bot.config import LOG_LEVELS, ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("bot")


def _version() -> str:
    """The installed distribution's version: one number, from pyproject.toml."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dialer-bot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dialer-bot",
        description="Run Voipex dialer campaigns from Slack. Start with `dialer-bot demo` "
        "(no Slack app, no Voipex account), then `dialer-bot doctor` against your own.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser(
        "serve", help="HTTP mode: POST /slack/events, GET /healthz, /readyz, /metrics on PORT"
    )
    socket = sub.add_parser(
        "socket", help="Socket Mode with SLACK_APP_TOKEN (no public URL needed)"
    )
    for mode in (serve, socket):
        mode.add_argument(
            "--create-db",
            action="store_true",
            help="create DATABASE_PATH's directory if it does not exist (else that is an error)",
        )
    sub.add_parser(
        "doctor",
        help="check the configured dialer and Slack read-only; run it first (exit 1: a problem)",
    )
    sim = sub.add_parser("simulator", help="run the Voipex dialer simulator", add_help=False)
    sim.add_argument("rest", nargs=argparse.REMAINDER)
    demo = sub.add_parser(
        "demo",
        help="try the bot in a terminal: /dialer lines, simulated Slack and dialer "
        "(its options: dialer-bot demo --help)",
        add_help=False,
    )
    demo.add_argument("rest", nargs=argparse.REMAINDER)
    audit = sub.add_parser("audit", help="verify or export the audit log")
    audit_sub = audit.add_subparsers(dest="audit_cmd", required=True)
    verify = audit_sub.add_parser(
        "verify", help="walk the hash chain; exit 1 at the first broken entry"
    )
    verify.add_argument(
        "--anchor",
        metavar="N:HASH",
        help="also prove entries up to N unrewritten: HASH as the bot posted it to Slack",
    )
    backup = audit_sub.add_parser(
        "backup", help="copy the database while the bot runs (SQLite online backup), then verify"
    )
    backup.add_argument("path", help="the new file to write (must not exist)")
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
        from simulator.demo.cli import main as demo_main

        return demo_main(argv[1:])
    args = _parser().parse_args(argv)
    log_format = "text"
    try:
        mode = args.cmd if args.cmd in ("serve", "socket") else None
        try:
            settings = load_settings(mode)
        except ConfigError:
            log_format = _setup_logging(None)
            raise
        log_format = _setup_logging(settings)
        if mode is not None:
            created = check_database_path(settings.database_path, create=args.create_db)
            asyncio.run(
                _serve(settings, created) if mode == "serve" else _socket(settings, created)
            )
        elif args.cmd == "doctor":
            from bot.doctor import run_doctor

            logging.getLogger("httpx").setLevel(logging.WARNING)  # the report says it all
            return asyncio.run(run_doctor(settings))
        elif args.cmd == "audit":
            return _audit(settings, args)
    except ConfigError as exc:
        if log_format == "json":  # a log shipper reads every line of stderr as JSON
            log.error("dialer-bot: configuration error: %s", exc)
        else:
            print(f"dialer-bot: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


def _setup_logging(settings: Settings | None) -> str:
    """LOG_LEVEL and LOG_FORMAT; when the settings did not load, from the environment alone,
    so that the report of what is wrong is still written in the format asked for.
    Returns the format ("text" or "json")."""
    import os

    from bot.logs import setup_logging

    if settings is not None:
        setup_logging(settings.log_level, settings.log_format)
        return settings.log_format
    level = os.environ.get("LOG_LEVEL", "INFO").strip().upper()
    fmt = "json" if os.environ.get("LOG_FORMAT", "text").strip().lower() == "json" else "text"
    setup_logging(level if level in LOG_LEVELS else "INFO", fmt)
    return fmt


def check_database_path(path: str, *, create: bool) -> bool:
    """A mistyped DATABASE_PATH must not silently start a fresh, empty audit chain somewhere:
    its directory must exist unless --create-db is given. Returns whether the file is new."""
    from pathlib import Path

    if path == ":memory:":
        return True
    target = Path(path)
    if not target.parent.is_dir():
        if not create:
            raise ConfigError(
                f"DATABASE_PATH: directory {target.parent.resolve()} does not exist; fix the path "
                "or pass --create-db to create it"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
    return not target.exists()


def _log_database(services: Services, created: bool) -> None:
    path = services.settings.database_path
    shown = path if path == ":memory:" else str(__import__("pathlib").Path(path).resolve())
    if created:
        log.info("database %s: created just now (a new, empty audit log)", shown)
    else:
        log.info("database %s: opened, %d audit rows", shown, services.store.audit.count())


async def _prepare(settings: Settings, created: bool) -> Services:
    """Build, log the database, prove the Slack token (the start's one auth.test), recover."""
    from bot.app import build_services, startup

    services = build_services(settings)
    try:
        _log_database(services, created)
        await services.slack_auth.check()
        await startup(services)
    except BaseException:
        await services.aclose()
        raise
    return services


async def _serve(settings: Settings, created: bool) -> None:
    from bot.app import install_signal_handlers, start_http, stop_http

    services = await _prepare(settings, created)
    runner, port = await start_http(services, settings.host, settings.port)
    log.info("dialer-bot listening on http://%s:%d/slack/events", settings.host, port)
    stop = asyncio.Event()
    install_signal_handlers(stop)
    await stop.wait()
    log.info("stopping: finishing in-flight commands")
    await stop_http(runner, services)


async def _socket(settings: Settings, created: bool) -> None:
    from bot.app import install_signal_handlers
    from bot.socket_mode import SocketMode

    services = await _prepare(settings, created)
    assert settings.slack_app_token is not None
    async with SocketMode(services, settings.slack_app_token.get_secret_value()):
        log.info("dialer-bot connected in Socket Mode")
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await stop.wait()


def _verify(store: Any, anchor: Any) -> int:
    result = store.audit.verify()
    if not result.ok:
        print(f"chain broken at entry {result.first_bad_id}: {result.reason}")
        return 1
    if anchor is not None:
        problem = store.anchors.check(anchor)
        if problem is not None:
            print(f"{result.count} entries, chain consistent, but {problem}")
            return 1
        print(
            f"{result.count} entries, chain intact; entries up to {anchor.entry} match the anchor"
        )
        return 0
    print(f"{result.count} entries, chain intact")
    for recorded in store.anchors.recorded(limit=1):
        entry = recorded["entry"]
        print(
            f"latest anchor: entry {entry}, posted to {recorded['channel_id']} at "
            f"{recorded['ts']}; prove it with --anchor {entry}:HASH, HASH from that Slack message"
        )
    return 0


def _backup(source: str, target: str) -> int:
    from store.audit import BackupError, backup

    try:
        result = backup(source, target)
    except BackupError as exc:
        print(f"dialer-bot: backup failed: {exc}", file=sys.stderr)
        return 2
    if not result.verify.ok:
        print(
            f"backup written to {result.path}, but its chain is broken at entry "
            f"{result.verify.first_bad_id}: {result.verify.reason}"
        )
        return 1
    print(
        f"backup written to {result.path} ({result.size} bytes): "
        f"{result.verify.count} entries, chain intact"
    )
    return 0


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
    if args.audit_cmd == "backup":
        return _backup(settings.database_path, args.path)
    anchor = None
    if args.audit_cmd == "verify" and args.anchor is not None:
        from store.audit import parse_anchor

        try:
            anchor = parse_anchor(args.anchor)
        except ValueError as exc:
            raise ConfigError(f"--{exc}") from None
    store = Store(settings.database_path)
    try:
        if args.audit_cmd == "verify":
            return _verify(store, anchor)
        out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout  # noqa: SIM115
        try:
            for line in store.audit.export(args.format, since=args.since):
                out.write(line if line.endswith("\n") else line + "\n")
            out.flush()  # inside the try: a reader gone at the last lines is caught here too
        except BrokenPipeError:
            if out is not sys.stdout:
                raise
            return _reader_gone()
        finally:
            if out is not sys.stdout:
                out.close()
        return 0
    finally:
        store.close()


def _reader_gone() -> int:
    """The reader of standard output left (`audit export | head`): stop quietly with the
    status a command killed by SIGPIPE has in the shell. stdout is pointed at /dev/null, as
    Python's documentation advises, so the flush at exit does not fail a second time."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + 13  # SIGPIPE
