"""What /slack/events checks before anything reads a request: the signature, on the raw bytes.

Slack signs ``v0:<timestamp>:<body bytes>`` with the app's signing secret (HMAC-SHA256)
and the signature is only good for 5 minutes. The check runs on the bytes as they
arrived, so a body that is not even UTF-8 is refused as unsigned, not parsed; slack_sdk's
SignatureVerifier decodes the body first and raises on such bytes, so the HMAC is
computed here, the same way. Refusals are logged one line at a time, at most one per
interval, so whoever can reach the URL cannot fill the log.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store import Store

log = logging.getLogger(__name__)

# Slack's window: a request older (or newer) than this is refused, so a signature seen
# within it is the only replay left to catch (store/seen.py).
MAX_AGE_S = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class Signatures:
    """Checks ``X-Slack-Signature`` over the raw body with the signing secret."""

    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret.encode()
        self._clock = clock

    def problem(self, raw: bytes, headers: Mapping[str, str]) -> str | None:
        """None for a good signature; else why not, in words fit for the log."""
        timestamp = headers.get("X-Slack-Request-Timestamp")
        signature = headers.get("X-Slack-Signature")
        if not timestamp or not signature:
            return "no signature or timestamp"
        if not _TIMESTAMP.fullmatch(timestamp):
            return "a malformed timestamp"
        if abs(self._clock() - int(timestamp)) > MAX_AGE_S:
            return "a timestamp outside the 5-minute window"
        if not _SIGNATURE.fullmatch(signature):
            return "a malformed signature"
        mac = hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256)
        if not hmac.compare_digest("v0=" + mac.hexdigest(), signature):
            return "a wrong signature"
        return None


class QuietLog:
    """One warning per ``interval_s`` at most; the next one says how many were left out."""

    def __init__(
        self,
        logger: logging.Logger,
        interval_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._interval = interval_s
        self._clock = clock
        self._last: float | None = None
        self.suppressed = 0

    def warning(self, msg: str, *args: object) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            self.suppressed += 1
            return
        if self.suppressed:
            msg += f" ({self.suppressed} more since the last such line, not logged)"
        self._log.warning(msg, *args)
        self._last = now
        self.suppressed = 0


class SeenRequests:
    """Records each signed request's signature in the store before it is acted on.

    Requests arriving while a write is under way wait for the next one and go in
    together: under a burst each ack waits for one or two store round trips, not for
    its place in a queue of one-row writes. Whether a request is new is still decided
    by its own conditional INSERT (store/seen.py)."""

    def __init__(self, store: Store, timeout_s: float) -> None:
        self._store = store
        self._timeout = timeout_s
        self._waiting: list[tuple[str, int, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._failures = QuietLog(log)  # a locked file fails every request: one line a 10 s

    async def first_sight(self, signature: str, timestamp: int) -> bool | None:
        """True when new, False for a copy, None when the store did not say in time."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((signature, timestamp, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())
        try:
            return await asyncio.wait_for(future, self._timeout)
        except (TimeoutError, sqlite3.Error) as exc:
            reason = str(exc) or type(exc).__name__
            self._failures.warning(
                "could not record a request as seen (%s): refused with 503", reason
            )
            return None

    async def _write(self) -> None:
        store = self._store
        while self._waiting:
            batch, self._waiting = self._waiting, []
            pairs = [(signature, timestamp) for signature, timestamp, _ in batch]
            try:
                firsts = await store.run_for_ack(store.seen.first_sights, pairs, time.time())
            except sqlite3.Error as exc:
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (*_, future), first in zip(batch, firsts, strict=True):
                if not future.done():  # its request gave up waiting (503)
                    future.set_result(first)
