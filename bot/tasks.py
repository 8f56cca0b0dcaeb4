"""Work that runs after Slack's ack, tracked so that shutdown and tests can await it."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

# True in work spawned after an ack and in what it starts: the crowd that takes turns.
# Acks, and the single senders (notifier, watcher, scheduler), never wait for one.
IN_CROWD: contextvars.ContextVar[bool] = contextvars.ContextVar("in_crowd", default=False)

# Queued work (BackgroundTasks.queue): the coroutine, its task's name, the queuer's context.
Queued = tuple[Coroutine[Any, Any, Any], str | None, contextvars.Context]


class Turnstile:
    """Lets post-ack work resume one task per pass of the event loop, so acks get in between.

    A burst of commands, or the dialer's answers arriving together after a slow spell, leave
    many tasks ready at once; resumed in one pass, their CPU work (parsing, rendering,
    replying) made every ack queued behind them wait, up to hundreds of ms in the soak.
    Waiters go in turn, FIFO; a pass with nothing else to do costs microseconds.

    A waiter is a future (a running task's turn) or a queued start (work not begun yet,
    BackgroundTasks.queue): in its turn, ``start`` is called with it.
    """

    def __init__(self, start: Callable[[Any], None] | None = None) -> None:
        self._waiting: deque[Any] = deque()
        self._releasing = False
        self._start = start

    def __len__(self) -> int:
        return len(self._waiting)

    async def turn(self) -> None:
        if not IN_CROWD.get():
            return
        loop = asyncio.get_running_loop()
        ticket = loop.create_future()
        self._enter(ticket, loop)
        await ticket  # a cancelled ticket is skipped by _release_one

    def admit(self, start: Any) -> None:
        """Queue a start: ``start`` goes to the start callable in its turn."""
        self._enter(start, asyncio.get_running_loop())

    def take_starts(self) -> list[Any]:
        """Remove the starts whose turn has not come (shutdown gives up on them)."""
        starts = [w for w in self._waiting if not isinstance(w, asyncio.Future)]
        tickets = [w for w in self._waiting if isinstance(w, asyncio.Future)]
        self._waiting = deque(tickets)
        return starts

    def _enter(self, waiter: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._waiting.append(waiter)
        if not self._releasing:
            self._releasing = True
            loop.call_soon(self._release_one)

    def _release_one(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not isinstance(waiter, asyncio.Future):
                assert self._start is not None
                self._start(waiter)
                break
            if not waiter.done():
                waiter.set_result(None)
                break
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._release_one)
        else:
            self._releasing = False


class BackgroundTasks:
    """A set of running tasks: nothing started after an ack is lost or left unawaited."""

    def __init__(self) -> None:
        self.turnstile = Turnstile(self._start)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._queued = 0  # queue()d work whose turn has not come: no task yet
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def closing(self) -> bool:
        return self._closing

    def __len__(self) -> int:
        return len(self._tasks) + self._queued

    def spawn(
        self, coro: Coroutine[Any, Any, Any], *, name: str | None = None
    ) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(self._in_turn(coro), name=name)
        self._idle.clear()
        self._track(task, coro, contextvars.copy_context())
        return task

    def queue(self, coro: Coroutine[Any, Any, Any], *, name: str | None = None) -> None:
        """Work nobody awaits (a listener's, after its ack): it gets its task in its turn.

        In a burst most commands wait for their turn; as a task each held some ten more
        objects (the task, its turn's future, their callbacks) for the collector to walk,
        and its first step, only to start waiting, took a pass of its own among the acks
        (bench/ack_latency.py --command "campaign 1"). Queued, it holds its coroutine and
        a copy of the caller's context (the request id of its logs and audit rows)."""
        self._queued += 1
        self._idle.clear()
        self.turnstile.admit((coro, name, contextvars.copy_context()))

    def _start(self, queued: Queued) -> None:
        coro, name, context = queued
        self._queued -= 1
        task = asyncio.get_running_loop().create_task(_in_crowd(coro), name=name, context=context)
        # The queuer's context, not the turnstile's: a failure's log line names its request.
        self._track(task, coro, context)

    def _track(
        self, task: asyncio.Task[Any], coro: Coroutine[Any, Any, Any], context: contextvars.Context
    ) -> None:
        """Cancelled before its turn came, `coro` never started: _done closes it, quietly.
        One callback: asyncio keeps a context for each (the request id of a failure's log
        line), and a burst leaves a thousand tasks holding them."""
        self._tasks.add(task)
        task.add_done_callback(functools.partial(self._done, coro), context=context)

    async def _in_turn(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Work spawned by an ack starts in its turn: the acks of a burst go first."""
        IN_CROWD.set(True)  # this task's own copy of the context
        await self.turnstile.turn()
        return await coro

    def _done(self, coro: Coroutine[Any, Any, Any], task: asyncio.Task[Any]) -> None:
        coro.close()  # a no-op for one that ran
        self._tasks.discard(task)
        if not self._tasks and not self._queued:
            self._idle.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until no task is running (new ones spawned meanwhile included); False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                while self._tasks or self._queued:
                    await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def close(self, timeout: float = 10.0) -> None:
        """Let in-flight work finish up to `timeout`, then cancel what is left."""
        self._closing = True
        if not await self.drain(timeout):
            for coro, _, _ in self.turnstile.take_starts():
                coro.close()  # never started: no "never awaited" warning
            self._queued = 0
            if not self._tasks:
                self._idle.set()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def _in_crowd(coro: Coroutine[Any, Any, Any]) -> Any:
    IN_CROWD.set(True)  # the task's own copy of the queuer's context
    return await coro
