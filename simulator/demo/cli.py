"""`dialer-bot demo`'s command line: the options, where the input comes from, and one run."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from simulator.demo.session import DemoSession
from simulator.demo.source import Out, ScriptInput, TerminalInput


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dialer-bot demo",
        description="Try dialer-bot in a terminal: Slack and the dialer are simulated in-process.",
        epilog="Interactive in a terminal; with --script FILE or piped input it reads one "
        "input per line and prints the transcript (exit 1 if the input ends inside a form). "
        "The bot's warnings and errors go to a log file (PATH.log with --db, else a temporary "
        "file), named at the end when there were any; --verbose also shows them here.",
    )
    p.add_argument(
        "--db",
        metavar="PATH",
        help="SQLite file to keep, with the simulated dialer's data in PATH.simulator.json "
        "(default: temporary ones)",
    )
    p.add_argument(
        "--as",
        dest="role",
        choices=("viewer", "operator", "admin"),
        default="admin",
        help="the console user's role (default: admin)",
    )
    p.add_argument(
        "--script",
        metavar="FILE",
        help="read one input per line from FILE and print the transcript",
    )
    p.add_argument(
        "--dialect",
        choices=("guide", "v2"),
        default="guide",
        help="how the simulated dialer answers (see `dialer-bot simulator --help`)",
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="also show the bot's log lines (warnings, errors) in the terminal",
    )
    return p


LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


class DemoLog(logging.FileHandler):
    """The demo's log file: the bot's warnings and errors would otherwise land between its
    messages. Opened at the first record, so a quiet session leaves no file."""

    def __init__(self, path: Path, *, temporary: bool) -> None:
        super().__init__(path, encoding="utf-8", delay=True)
        self.path = path
        self.temporary = temporary
        self.records = 0
        self.setFormatter(logging.Formatter("%(asctime)s " + LOG_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        super().emit(record)

    def finish(self) -> str | None:
        """Close the file; a note saying where the lines are, or None (and no file) if none."""
        self.close()
        if self.records:
            lines = f"{self.records} log line" + ("s" if self.records > 1 else "")
            return f"(dialer-bot wrote {lines} to {self.path}; --verbose shows them here)"
        if self.temporary:
            self.path.unlink(missing_ok=True)
        return None


def _setup_logging(db_path: str | None, verbose: bool) -> DemoLog:
    if db_path is not None:
        log = DemoLog(Path(db_path + ".log"), temporary=False)
    else:
        fd, name = tempfile.mkstemp(prefix="dialer-bot-demo-", suffix=".log")
        os.close(fd)
        log = DemoLog(Path(name), temporary=True)
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    root.addHandler(log)
    if verbose:
        terminal = logging.StreamHandler(sys.stderr)
        terminal.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(terminal)
    return log


async def run_demo(
    inputs: Callable[[Out], ScriptInput | TerminalInput],
    *,
    db_path: str | None = None,
    role: str = "admin",
    out: Out = print,
    dialect: str = "guide",
) -> int:
    """Start everything, run the console until its input ends, stop everything."""
    session = await DemoSession.start(db_path=db_path, role=role, out=out, dialect=dialect)
    try:
        for line in session.banner():
            out(line)
        await session.refresh()
        return await session.run(inputs(out))
    finally:
        await session.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not sys.stdout.isatty() and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    elif hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")

    def out(line: str) -> None:
        print(line, flush=True)

    if args.script:
        try:
            with open(args.script, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError as exc:
            print(f"dialer-bot demo: cannot read the script: {exc}", file=sys.stderr)
            return 2

        def make(o: Out) -> ScriptInput | TerminalInput:
            return ScriptInput(lines, o)
    elif not sys.stdin.isatty():

        def make(o: Out) -> ScriptInput | TerminalInput:
            return ScriptInput(sys.stdin, o, threaded=True)
    else:

        def make(o: Out) -> ScriptInput | TerminalInput:
            return TerminalInput()

    log = _setup_logging(args.db, args.verbose)
    try:
        demo = run_demo(make, db_path=args.db, role=args.role, out=out, dialect=args.dialect)
        return asyncio.run(demo)
    except KeyboardInterrupt:
        print("\n(demo stopped)", file=sys.stderr)
        return 130
    finally:
        logging.getLogger().removeHandler(log)
        if (note := log.finish()) is not None:
            out(note)
