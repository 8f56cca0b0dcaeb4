"""One GET in flight shared by every caller asking for the same path, and the order in
which they are woken when it is answered.

A burst of `/dialer campaign 7` may leave a thousand callers waiting on one GET. Woken all
at once, each would parse, render and post its reply in the same pass of the event loop,
and the acks of new commands would wait behind all of them (bench/ack_latency.py with a
burst longer than the dialer's answer: p99 in seconds). So they are woken one per loop
pass, each passing the turn on as it resumes; acks get in between.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any


class SharedRead:
    """A running fetch and its waiters. Cancelling a waiter never cancels the fetch."""

    def __init__(self, fetch: asyncio.Future[Any]) -> None:
        self.fetch = fetch
        self._turns: deque[asyncio.Future[None]] = deque()
        fetch.add_done_callback(lambda _: self._wake_next())

    async def wait(self) -> Any:
        """The fetch's answer (or its exception), in this caller's turn."""
        if not self.fetch.done():
            turn = asyncio.get_running_loop().create_future()
            self._turns.append(turn)
            try:
                await turn
            finally:  # also when cancelled after its turn came: the turn must not be lost
                if self.fetch.done():
                    asyncio.get_running_loop().call_soon(self._wake_next)
        return self.fetch.result()

    def _wake_next(self) -> None:
        while self._turns:
            turn = self._turns.popleft()
            if not turn.done():  # a cancelled waiter's turn is skipped
                turn.set_result(None)
                return
