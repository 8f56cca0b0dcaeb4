"""GET /readyz: ready only when every dependency works: the database takes writes, Slack
accepted the bot token, and the dialer answered recently. /healthz stays liveness.

The answer carries one line per check and never a secret, a URL or a campaign name.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any

from bot.config import ConfigError
from bot.dialer import DialerError
from bot.services import Services

# With the watcher off, an answer from the dialer this recent counts; older, /readyz asks
# the dialer itself (one shared GET of the IVR list, which also proves the credentials).
PROBE_AFTER_S = 60.0
PROBE_TIMEOUT_S = 5.0
SLACK_RETRY_S = 30.0  # auth.test again at most this often while Slack has not said yes

_last_slack_try: dict[int, float] = {}

# The database check's answer is kept this long: probes may come every second from several
# places, and the answer does not change faster than a person could act on it.
DATABASE_CHECK_TTL_S = 3.0
# The store's one thread may be waiting on another process's lock: then say so, not hang.
DATABASE_CHECK_TIMEOUT_S = 2.0
_database_checked: weakref.WeakKeyDictionary[Any, tuple[float, dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


async def check(services: Services) -> dict[str, Any]:
    database, slack, dialer = await asyncio.gather(
        _database(services), _slack(services), _dialer(services)
    )
    checks = {"database": database, "slack": slack, "dialer": dialer}
    return {"ready": all(c["ok"] for c in checks.values()), "checks": checks}


async def _database(services: Services) -> dict[str, Any]:
    """Missing, replaced, read-only, full or locked: not ready (store.Health.problem);
    the answer is reused for DATABASE_CHECK_TTL_S."""
    health = services.store.health
    now = time.monotonic()
    cached = _database_checked.get(health)
    if cached is not None and now - cached[0] < DATABASE_CHECK_TTL_S:
        return cached[1]
    try:
        async with asyncio.timeout(DATABASE_CHECK_TIMEOUT_S):
            problem = await services.store.run(health.problem)
    except TimeoutError:
        problem = "the database did not answer in time (the store is busy or locked)"
    result = {"ok": True} if problem is None else {"ok": False, "detail": problem}
    _database_checked[health] = (time.monotonic(), result)
    return result


async def _slack(services: Services) -> dict[str, Any]:
    auth = services.slack_auth
    if auth.answer is None:
        now = time.monotonic()
        if now - _last_slack_try.get(id(services), -SLACK_RETRY_S) >= SLACK_RETRY_S:
            _last_slack_try[id(services)] = now
            try:
                await auth.check()
            except ConfigError:
                return {"ok": False, "detail": "Slack refused SLACK_BOT_TOKEN"}
    if auth.answer is None:
        return {"ok": False, "detail": "auth.test has not succeeded yet"}
    return {"ok": True}


def watch_interval(services: Services) -> float | None:
    """DIALER_WATCH_INTERVAL when this process's watcher is polling (it has polled): then an
    answer that recent is expected. A standby process (or a watcher not started) polls
    nothing, so its interval says nothing about the dialer."""
    watcher = services.watcher
    if not watcher.enabled or watcher.last_success_at is None:
        return None
    return float(watcher.interval)


async def _dialer(services: Services) -> dict[str, Any]:
    client = services.dialer
    interval = watch_interval(services)
    max_age = interval if interval is not None else PROBE_AFTER_S
    last = client.last_ok_at
    age = None if last is None else time.monotonic() - last
    if age is not None and age <= max_age:
        return {"ok": True, "last_answer_s": round(age, 1)}
    # Older than that: ask the dialer. Even with the watcher on, only the process holding its
    # lease polls (a standby's client hears nothing), so silence alone proves nothing.
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await client.list_ivr()
    except TimeoutError:
        return {"ok": False, "detail": "the dialer did not answer in time"}
    except DialerError as exc:
        what = f"HTTP {exc.status}" if exc.status is not None else exc.kind
        if exc.status in (401, 403):
            return {"ok": False, "detail": f"the dialer refused the bot's credentials ({what})"}
        if exc.status is not None and exc.status < 500:
            return {"ok": True, "last_answer_s": 0.0}  # it answered; the request was the issue
        return {"ok": False, "detail": f"the dialer is unreachable ({what})"}
    return {"ok": True, "last_answer_s": 0.0}
