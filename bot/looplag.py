"""Event-loop stalls, measured in production: a ticker that notices when the loop was held,
and the garbage collector's pauses, which are the usual suspect in a long-running process.

Both go to /metrics; a stall over STALL_LOG_S is also logged with the GC pauses since the
last tick, so a log line says whether the collector was the cause.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from typing import Any

from prometheus_client import Histogram

from bot.metrics import REGISTRY

log = logging.getLogger(__name__)

TICK_S = 0.05
STALL_LOG_S = 0.25

LOOP_LAG = Histogram(
    "dialer_bot_event_loop_lag_seconds",
    "How late the loop ran a timer that was due (a held loop delays every ack)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0),
    registry=REGISTRY,
)
GC_PAUSE = Histogram(
    "dialer_bot_gc_pause_seconds",
    "Garbage-collector pauses by generation",
    ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    registry=REGISTRY,
)


class LoopLag:
    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._gc_started = 0.0
        self._recent: list[tuple[int, float]] = []

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.create_task(self._tick(), name="loop-lag")

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        pause = time.perf_counter() - self._gc_started
        GC_PAUSE.labels(str(info.get("generation"))).observe(pause)
        if pause > 0.01:
            self._recent.append((int(info.get("generation", -1)), pause))

    async def _tick(self) -> None:
        while True:
            due = time.perf_counter() + TICK_S
            await asyncio.sleep(TICK_S)
            lag = max(0.0, time.perf_counter() - due)
            LOOP_LAG.observe(lag)
            if lag > STALL_LOG_S:
                pauses = ", ".join(f"gen{g} {p * 1000:.0f} ms" for g, p in self._recent)
                log.warning(
                    "event loop held for %.0f ms (GC pauses over 10 ms since: %s)",
                    lag * 1000,
                    pauses or "none",
                )
            self._recent.clear()

    async def aclose(self) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
