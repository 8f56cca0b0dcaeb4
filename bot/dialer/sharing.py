"""One GET in flight shared by every caller asking for the same path, and the order in
which they are answered.

A burst of `/dialer campaign 7` may leave a thousand callers waiting on one GET. Answered
all at once, each would render and post its reply in the same pass of the event loop, and
the acks of new commands would wait behind all of them (bench/ack_latency.py with a burst
longer than the dialer's answer: p99 in seconds). So they are answered one per loop pass;
acks get in between.

A caller gets a future, not a coroutine to run: a thousand waiting callers each held a
task, a coroutine and a turn of their own before (bench/ack_latency.py, CPU per command).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any


class SharedRead:
    """A running fetch and its waiters' futures. Cancelling a waiter never cancels the fetch.

    ``copy`` makes each waiter's own copy of the answer (a listing's list), so no caller
    can change what another one sees."""

    def __init__(self, fetch: asyncio.Future[Any], copy: Callable[[Any], Any] | None = None):
        self.fetch = fetch
        self._copy = copy
        self._turns: deque[asyncio.Future[Any]] = deque()
        fetch.add_done_callback(lambda _: self._answer_next())

    def join(self) -> asyncio.Future[Any]:
        """A future with the fetch's answer (or its exception), set in this caller's turn."""
        waiter = asyncio.get_running_loop().create_future()
        self._turns.append(waiter)
        if self.fetch.done() and len(self._turns) == 1:  # joined after the answer came
            self._answer_next()
        return waiter

    def _answer_next(self) -> None:
        while self._turns:
            waiter = self._turns.popleft()
            if waiter.done():  # a cancelled waiter's turn is skipped
                continue
            if self.fetch.cancelled():
                waiter.cancel()
            elif (error := self.fetch.exception()) is not None:
                waiter.set_exception(error)
            else:
                result = self.fetch.result()
                waiter.set_result(self._copy(result) if self._copy else result)
            if self._turns:  # the next one in the next pass, after this one has run
                asyncio.get_running_loop().call_soon(self._answer_next)
            return
