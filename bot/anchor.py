"""Anchoring the audit chain: every AUDIT_ANCHOR_HOURS and at shutdown the bot posts
"audit head: entry N, hash …" to AUDIT_ANCHOR_CHANNEL (default NOTIFY_CHANNEL) and records
the post as an `anchor` row. `dialer-bot audit verify --anchor N:HASH` then proves that
entries up to N were not rewritten, even by someone who recomputed every hash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import record_anchor
from store import Store
from store.audit import anchor_text

log = logging.getLogger(__name__)


class AnchorPoster:
    """One periodic task; post() is also called once at shutdown."""

    def __init__(
        self, store: Store, client: AsyncWebClient, channel: str | None, interval_s: float
    ) -> None:
        self._store = store
        self._client = client
        self.channel = channel
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def start(self) -> None:
        if self.channel is None:
            log.info("audit anchors are off: set AUDIT_ANCHOR_CHANNEL or NOTIFY_CHANNEL")
            return
        self._task = asyncio.create_task(self._loop(), name="audit-anchor")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.post()

    async def post(self) -> int | None:
        """Post the head and record it; returns the anchored entry, or None (nothing new,
        anchors off, or Slack failed: then the next anchor covers it)."""
        if self.channel is None:
            return None
        store = self._store
        async with self._lock:
            if await store.run(store.anchors.head_is_anchored):
                return None
            head = await store.run(store.anchors.head)
            assert head is not None
            try:
                response = await self._client.chat_postMessage(
                    channel=self.channel, text=anchor_text(head)
                )
            except Exception as exc:  # noqa: BLE001 - Slack down: the next anchor covers it
                log.warning("could not post the audit anchor (%s)", type(exc).__name__)
                return None
            await record_anchor(store, self.channel, head, response.get("ts"))
        log.info("audit anchor: entry %d posted to %s", head.entry, self.channel)
        return head.entry

    async def aclose(self) -> None:
        """Stop the timer, then anchor what this run wrote."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.post()
