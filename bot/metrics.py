"""Prometheus metrics for GET /metrics: counts, ages and latencies, never names or secrets.

Counters and histograms live in one process-wide registry (a process is one bot); gauges
that describe the database (outbox, approvals, schedules, control outcomes) are computed
at scrape time from SQLite, so they are true across restarts and processes.

Also event-loop lag, measured in production (LoopLag): a held loop delays every ack, so
/metrics shows how late a periodic timer ran, and a stall over STALL_LOG_S is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

disable_created_metrics()  # *_created series double the page and tell operators nothing
REGISTRY = CollectorRegistry(auto_describe=True)
# process_resident_memory_bytes, CPU seconds, open fds, start time: what operators expect
# of any process (read from /proc; absent where there is none).
ProcessCollector(registry=REGISTRY)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
ACK_SECONDS = Histogram(
    "dialer_bot_ack_seconds",
    "Time from a Slack request's arrival to its HTTP answer (the ack), by request kind",
    ["kind"],
    buckets=ACK_BUCKETS,
    registry=REGISTRY,
)
DIALER_REQUESTS = Counter(
    "dialer_bot_dialer_requests",
    "Requests to the dialer API by endpoint (path template) and status (or 'error')",
    ["method", "endpoint", "status"],
    registry=REGISTRY,
)
DIALER_SECONDS = Histogram(
    "dialer_bot_dialer_request_seconds",
    "Dialer API request latency by endpoint",
    ["method", "endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)

# Request kinds Slack sends; anything else is "other", so a label never carries user input.
ACK_KINDS = frozenset(
    {
        "command",
        "block_actions",
        "view_submission",
        "view_closed",
        "block_suggestion",
        "shortcut",
        "message_action",
        "event_callback",
    }
)
_IDS = re.compile(r"/\d+(?=/|$)")

_watcher_last_ok: float | None = None  # time.time() of the watcher's last successful poll


def watcher_ok(at: float | None = None) -> None:
    """bot/watch.py calls this after every successful poll of the dialer."""
    global _watcher_last_ok
    _watcher_last_ok = time.time() if at is None else at


def watcher_last_ok() -> float | None:
    return _watcher_last_ok


def ack_kind(body: dict[str, Any]) -> str:
    """`command` for slash commands, else the payload's type, from a closed list."""
    if "command" in body:
        return "command"
    kind = str(body.get("type", ""))
    return kind if kind in ACK_KINDS else "other"


def observe_ack(kind: str, seconds: float) -> None:
    ACK_SECONDS.labels(kind).observe(seconds)


def endpoint(path: str) -> str:
    """/dialer/campaigns/12/control -> /dialer/campaigns/{id}/control (bounded label set)."""
    return _IDS.sub("/{id}", path.split("?", 1)[0])


def observe_dialer(method: str, path: str, status: int | str, seconds: float) -> None:
    """Given to the dialer client (DialerClient(on_response=...)): every request and token fetch."""
    ep = endpoint(path)
    DIALER_REQUESTS.labels(method, ep, str(status)).inc()
    DIALER_SECONDS.labels(method, ep).observe(seconds)


class _Scrape(Collector):
    """Gauges computed for one scrape from a store snapshot and the running services."""

    def __init__(self, snap: Any, in_flight: int, now: datetime) -> None:
        self.snap = snap
        self.in_flight = in_flight
        self.now = now

    def collect(self) -> Iterator[Metric]:
        from store.db import age_seconds

        snap = self.snap
        yield _gauge(
            "dialer_bot_outbox_depth", "Notifications waiting to be sent", snap.outbox_depth
        )
        oldest = age_seconds(snap.outbox_oldest_created_at, self.now)
        yield _gauge(
            "dialer_bot_outbox_oldest_age_seconds",
            "Age of the oldest notification waiting (0 when none)",
            oldest or 0.0,
        )
        yield _gauge(
            "dialer_bot_pending_approvals", "Two-person requests waiting", snap.pending_approvals
        )
        if snap.pending_schedules is not None:
            yield _gauge(
                "dialer_bot_pending_schedules",
                "Scheduled commands not yet due or run",
                snap.pending_schedules,
            )
        last = watcher_last_ok()
        yield _gauge(
            "dialer_bot_watcher_last_success_age_seconds",
            "Seconds since the campaign watcher last polled the dialer (NaN: never)",
            math.nan if last is None else max(0.0, time.time() - last),
        )
        yield _gauge("dialer_bot_audit_entries", "Rows in the audit log", snap.audit_entries)
        yield _gauge(
            "dialer_bot_in_flight", "Work started after acks, still running", self.in_flight
        )
        yield _gauge(
            "dialer_bot_python_heap_blocks",
            "Memory blocks Python's allocator holds: a leak grows it; RSS also keeps pages "
            "freed after a backlog",
            sys.getallocatedblocks(),
        )
        controls = CounterMetricFamily(
            "dialer_bot_control_commands",
            "Control commands by command and outcome, from the audit log",
            labels=["command", "outcome"],
        )
        for (command, outcome), n in sorted(snap.control_outcomes.items()):
            controls.add_metric([command, outcome], n)
        yield controls


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


async def render(services: Any) -> bytes:
    """The whole /metrics page: process-wide counters, then this scrape's gauges."""
    snap = await services.store.run(services.store.health.snapshot)
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_Scrape(snap, len(services.tasks), datetime.now(UTC)))
    return generate_latest(REGISTRY) + generate_latest(scrape)


# ---- event-loop lag ------------------------------------------------------------------

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
