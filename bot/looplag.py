"""Event-loop lag, measured in production: a held loop delays every ack, so /metrics shows
how late a periodic timer ran, and a stall over STALL_LOG_S is logged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from prometheus_client import Gauge

from bot.metrics import REGISTRY

log = logging.getLogger(__name__)

TICK_S = 0.1
STALL_LOG_S = 0.25

LOOP_LAG = Gauge(
    "dialer_bot_event_loop_lag_seconds",
    "How late the event loop ran its last periodic timer (a held loop delays every ack)",
    registry=REGISTRY,
)


class LoopLag:
    """One periodic task; start() needs the running loop."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._tick(), name="loop-lag")

    async def _tick(self) -> None:
        while True:
            due = time.perf_counter() + TICK_S
            await asyncio.sleep(TICK_S)
            lag = max(0.0, time.perf_counter() - due)
            LOOP_LAG.set(lag)
            if lag > STALL_LOG_S:
                log.warning("event loop held for %.0f ms", lag * 1000)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
