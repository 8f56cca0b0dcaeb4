"""Where the demo console's lines come from: a script (or piped input), or the terminal.

Both answer `ask(prompt)` with one line, or None when the input has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator

Out = Callable[[str], None]


class ScriptEnded(Exception):
    """The input ran out while the console was waiting for an answer inside a form or dialog."""


class ScriptInput:
    """One answer per line (a script file or a pipe), echoed after its prompt like a session."""

    def __init__(self, lines: Iterable[str], out: Out, *, threaded: bool = False) -> None:
        self._lines: Iterator[str] = iter(lines)
        self._out = out
        self._threaded = threaded  # a pipe: read off the loop, so Ctrl-C is not held up

    async def _next(self) -> str | None:
        if not self._threaded:
            return next(self._lines, None)
        return await _on_daemon_thread(lambda: next(self._lines, None))

    async def ask(self, prompt: str, *, top: bool = False) -> str | None:
        while (raw := await self._next()) is not None:
            line = raw.rstrip("\r\n")
            if top and (not line.strip() or line.lstrip().startswith("#")):
                continue
            self._out(prompt + line)
            return line
        return None


class TerminalInput:
    """input() on a daemon thread, so Ctrl-C ends the demo at once and the loop stays free."""

    async def ask(self, prompt: str, *, top: bool = False) -> str | None:
        def read() -> str | None:
            try:
                return input(prompt)
            except EOFError:
                return None

        return await _on_daemon_thread(read)


async def _on_daemon_thread(read: Callable[[], str | None]) -> str | None:
    """One blocking read on a daemon thread: an interrupted demo exits without waiting for it
    (asyncio.to_thread's threads are joined at exit, so a pending read would hold it up)."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str | None] = loop.create_future()

    def run() -> None:
        try:
            line = read()
        except (OSError, ValueError):  # the input was closed under the read
            line = None
        with contextlib.suppress(RuntimeError):  # the demo ended and closed its loop meanwhile
            loop.call_soon_threadsafe(lambda: answer.done() or answer.set_result(line))

    threading.Thread(target=run, name="demo-input", daemon=True).start()
    return await answer
