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
    """Whether a signed request is the first with its signature, so a copy is not acted on.

    The store's conditional INSERT decides across every process sharing the file. It has
    SEEN_WAIT_S to answer: a locked or full database must not hold an ack (Slack waits
    3 s). Without its answer, this process's own record of the signatures it took still
    refuses a copy sent to it; a copy sent to another process meanwhile could run, but a
    command needs the same database for its pending audit row before anything is sent."""

    def __init__(self, store: Store, wait_s: float) -> None:
        self._store = store
        self._wait = wait_s
        self._taken: dict[str, int] = {}  # signature -> timestamp, oldest first
        self._failures = QuietLog(log)  # a locked file fails every request: one line a 10 s

    async def first_sight(self, signature: str, timestamp: int) -> bool:
        now = time.time()
        self._forget(now - MAX_AGE_S)
        if signature in self._taken:
            return False
        self._taken[signature] = timestamp
        store = self._store
        try:
            return await asyncio.wait_for(
                store.run_for_ack(store.seen.first_sight, signature, timestamp, now), self._wait
            )
        except (TimeoutError, sqlite3.Error) as exc:
            reason = str(exc) or "no answer in time"
            self._failures.warning(
                "could not record a request as seen (%s): checked against this process only",
                reason,
            )
            return True

    def _forget(self, before: float) -> None:
        """Drop signatures past Slack's window: the signature check refuses those anyway."""
        while self._taken:
            signature, timestamp = next(iter(self._taken.items()))
            if timestamp >= before:
                break
            del self._taken[signature]
