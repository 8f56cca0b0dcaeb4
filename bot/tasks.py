"""Work that runs after Slack's ack, tracked so that shutdown and tests can await it."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections import deque
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)

# True in work spawned after an ack and in what it starts: the crowd that takes turns.
# Acks, and the single senders (notifier, watcher, scheduler), never wait for one.
IN_CROWD: contextvars.ContextVar[bool] = contextvars.ContextVar("in_crowd", default=False)


class Turnstile:
    """Lets post-ack work resume one task per pass of the event loop, so acks get in between.

    A burst of commands, or the dialer's answers arriving together after a slow spell, leave
    many tasks ready at once; resumed in one pass, their CPU work (parsing, rendering,
    replying) made every ack queued behind them wait, up to hundreds of ms in the soak.
    Waiters go in turn, FIFO; a pass with nothing else to do costs microseconds.
    """

    def __init__(self) -> None:
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._releasing = False

    def __len__(self) -> int:
        return len(self._waiting)

    async def turn(self) -> None:
        if not IN_CROWD.get():
            return
        loop = asyncio.get_running_loop()
        ticket = loop.create_future()
        self._waiting.append(ticket)
        if not self._releasing:
            self._releasing = True
            loop.call_soon(self._release_one)
        await ticket  # a cancelled ticket is skipped by _release_one

    def _release_one(self) -> None:
        while self._waiting:
            ticket = self._waiting.popleft()
            if not ticket.done():
                ticket.set_result(None)
                break
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._release_one)
        else:
            self._releasing = False


class BackgroundTasks:
    """A set of running tasks: nothing started after an ack is lost or left unawaited."""

    def __init__(self) -> None:
        self.turnstile = Turnstile()
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
        task = asyncio.get_running_loop().create_task(self._in_turn(coro), name=name)
        self._tasks.add(task)
        self._idle.clear()
        # Cancelled before its turn came, `coro` never started: _done closes it, quietly.
        # One callback: asyncio keeps a copy of the caller's context for each (the request
        # id of a failure's log line), and a burst leaves a thousand tasks holding them.
        task.add_done_callback(functools.partial(self._done, coro))
        return task

    async def _in_turn(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Work spawned by an ack starts in its turn: the acks of a burst go first."""
        IN_CROWD.set(True)  # this task's own copy of the context
        await self.turnstile.turn()
        return await coro

    def _done(self, coro: Coroutine[Any, Any, Any], task: asyncio.Task[Any]) -> None:
        coro.close()  # a no-op for one that ran
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
