"""When the garbage collector makes its full passes: at a quiet moment, not in a burst.

A full pass walks every object that start-up's gc.freeze() did not set aside. In a burst
of commands those are mostly the commands waiting on the dialer, and on the 2-core bench
one pass held the loop for 70-90 ms, in the middle of a `campaign <id>` burst: every ack
in flight waited for it (bench/ack_latency.py prints the pauses). CPython starts a full
pass whenever its counters say so, burst or not.

Here CPython keeps its cadence for the young generations; the full pass, once due by
CPython's own count, waits until no ack is in flight, none began since the last look,
and at most SMALL_BACKLOG commands are still waiting (on the dialer, say). A pass walks
every waiting command too: in the soak, with some 2,700 of them waiting out a slow
dialer, "quiet" passes took up to 363 ms, and the next acks waited for them (max ack
369 ms). A bot that is never quiet still gets one at FORCE_AFTER, so cyclic garbage
cannot pile up without bound. Python 3.14's incremental collector has no full passes to move:
there the collector is left as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from collections.abc import Callable, Iterator

from prometheus_client import Counter

from bot.metrics import REGISTRY

CHECK_S = 0.05
DUE_AFTER = 10  # middle-generation passes: CPython's own threshold for a full pass
FORCE_AFTER = 100  # ten times that: the bot has not been quiet for a long while
SMALL_BACKLOG = 100  # waiting commands (BackgroundTasks): some 15-25 objects each
_NEVER = 1 << 30
APPLIES = sys.version_info < (3, 14)

FULL_PASSES = Counter(
    "dialer_bot_gc_full_passes_total",
    "Full garbage-collector passes the bot made: when quiet, or forced after a long busy spell",
    ["when"],
    registry=REGISTRY,
)
for _when in ("quiet", "forced"):
    FULL_PASSES.labels(_when)  # both series from the start, at 0: a dashboard sees them


class Acks:
    """Acks in flight, and how many have begun: what "quiet" means to the collector."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.started = 0

    @contextlib.contextmanager
    def acking(self) -> Iterator[None]:
        self.in_flight += 1
        self.started += 1
        try:
            yield
        finally:
            self.in_flight -= 1


ACKS = Acks()  # the collector is one per process, and so is what it waits for


class QuietCollector:
    """Takes CPython's full passes over, for as long as it runs (several may: tests)."""

    _running = 0
    _saved: tuple[int, ...] = ()

    def __init__(self, acks: Acks = ACKS, backlog: Callable[[], int] = lambda: 0) -> None:
        self._acks = acks
        self._backlog = backlog  # work after acks still under way (len(services.tasks))
        self._seen = acks.started
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if not APPLIES:
            return
        cls = type(self)
        if cls._running == 0:
            cls._saved = gc.get_threshold()
            gc.set_threshold(cls._saved[0], cls._saved[1], _NEVER)
        cls._running += 1
        self._task = asyncio.create_task(self._run(), name="quiet-collector")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(CHECK_S)
            self.check()

    def check(self) -> str | None:
        """Make the full pass if it is due and the moment is right; says which, or None."""
        started = self._acks.started
        quiet = self._acks.in_flight == 0 and started == self._seen
        self._seen = started
        due = gc.get_count()[2]  # middle-generation passes since the last full one
        if due < DUE_AFTER:
            return None
        quiet = quiet and self._backlog() <= SMALL_BACKLOG
        if not quiet and due < FORCE_AFTER:
            return None
        when = "quiet" if quiet else "forced"
        gc.collect()
        FULL_PASSES.labels(when).inc()
        return when

    async def aclose(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        cls = type(self)
        cls._running -= 1
        if cls._running == 0:
            gc.set_threshold(*cls._saved)
