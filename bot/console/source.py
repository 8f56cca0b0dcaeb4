"""Where the demo console's lines come from: a script (or piped input), or the terminal.

Both answer `ask(prompt)` with one line, or None when the input has ended.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator

Out = Callable[[str], None]


class ScriptEnded(Exception):
    """The input ran out while the console was waiting for an answer inside a form or dialog."""


class ScriptInput:
    """One answer per line (a script file or a pipe), echoed after its prompt like a session."""

    def __init__(self, lines: Iterable[str], out: Out) -> None:
        self._lines: Iterator[str] = iter(lines)
        self._out = out

    async def ask(self, prompt: str, *, top: bool = False) -> str | None:
        for raw in self._lines:
            line = raw.rstrip("\r\n")
            if top and (not line.strip() or line.lstrip().startswith("#")):
                continue
            self._out(prompt + line)
            return line
        return None


class TerminalInput:
    """input() on a daemon thread, so Ctrl-C ends the demo at once and the loop stays free."""

    async def ask(self, prompt: str, *, top: bool = False) -> str | None:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str | None] = loop.create_future()

        def read() -> None:
            try:
                line: str | None = input(prompt)
            except EOFError:
                line = None
            loop.call_soon_threadsafe(lambda: answer.done() or answer.set_result(line))

        threading.Thread(target=read, name="demo-input", daemon=True).start()
        return await answer
