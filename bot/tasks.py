"""Work that runs after Slack's ack, tracked so that shutdown and tests can await it.

Listeners ack first and spawn the rest here: Slack wants the ack within 3 s, and the
dialer alone may take longer. Nothing spawned is lost or left unawaited: shutdown
drains the set (bot.app.shutdown), then cancels what is still running.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class BackgroundTasks:
    """One set of running tasks: what /healthz counts and shutdown waits for."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def closing(self) -> bool:
        return self._closing

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(
        self, coro: Coroutine[Any, Any, Any], *, name: str | None = None
    ) -> asyncio.Task[Any]:
        """Run ``coro`` as a task of its own, in a copy of the caller's context (its
        request id, for the logs and audit rows of the work)."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(functools.partial(self._done, coro))
        return task

    def _done(self, coro: Coroutine[Any, Any, Any], task: asyncio.Task[Any]) -> None:
        coro.close()  # cancelled before it started: no "never awaited" warning
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until no task is running (new ones spawned meanwhile included); False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                while self._tasks:
                    await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def close(self, timeout: float = 10.0) -> None:
        """Let in-flight work finish up to `timeout`, then cancel what is left."""
        self._closing = True
        if not await self.drain(timeout):
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
