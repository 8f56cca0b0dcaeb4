"""Channel notifications through an outbox, so a Slack outage delays them but loses none.

Each notification is written to the outbox table once per channel, then a single
delivery loop posts pending items in id order. A channel whose post fails is
skipped until the next round, so its messages stay in order. Each item is claimed
in the database before it is posted, so two bot processes sharing the file never
post it twice; an item Slack will never accept is marked failed instead of
blocking its channel forever.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from store import Store

log = logging.getLogger(__name__)

RETRY_DELAYS_S = (2.0, 5.0, 15.0, 30.0, 60.0)
# A claim older than this is taken over by another sender (after a crash: by the
# restarted bot); one post (rate-limit retries included) is cut off at half of it so a
# live sender never loses its claim. A graceful stop hands its claim back at once.
LEASE_S = 30.0
# Slack errors that retrying cannot fix: the item is marked failed, the channel moves on.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "restricted_action",
    }
)


class Notifier:
    def __init__(
        self, client: AsyncWebClient, store: Store, notify_channel: str | None = None
    ) -> None:
        self._client = client
        self._store = store
        self._notify_channel = notify_channel
        self._lock = asyncio.Lock()
        self._again = False
        self._task: asyncio.Task[None] | None = None
        self._retry: asyncio.TimerHandle | None = None
        self._failures = 0
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def channels(self) -> list[str]:
        subscribed = await self._store.run(self._store.subscriptions.list)
        ordered = [self._notify_channel] if self._notify_channel else []
        ordered += [c for c in subscribed if c != self._notify_channel]
        return ordered

    async def publish(self, *, text: str, blocks: list[dict[str, Any]]) -> list[str]:
        """Queue one message per channel, then start delivery; returns the channels."""
        channels = await self.channels()
        outbox = self._store.outbox
        for channel in channels:
            payload = {"text": text, "blocks": blocks}
            await self._store.run(outbox.enqueue, channel, payload)
        if channels:
            self.kick()
        return channels

    def kick(self) -> None:
        """Start (or re-run) the delivery loop without waiting for it."""
        if self._closing:
            return
        self._again = True
        self._idle.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="notify")

    async def wait_idle(self, timeout: float | None = None) -> None:
        """For shutdown and tests: wait until the loop has nothing left to try now."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    async def close(self, timeout: float = 5.0) -> None:
        """Stop after the post in progress (so its claim is settled), cancelling after `timeout`."""
        self._closing = True
        if self._retry is not None:
            self._retry.cancel()
        if self._task is not None and not self._task.done():
            try:
                async with asyncio.timeout(timeout):
                    await asyncio.shield(self._task)
            except TimeoutError:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        try:
            while self._again:
                self._again = False
                try:
                    failed = await self._deliver_pending()
                except Exception:
                    # e.g. the database busy beyond its timeout: try again later, never die.
                    log.exception("notification delivery round failed")
                    self._failures += 1
                    failed = True
                if failed:
                    self._schedule_retry()
        finally:
            self._idle.set()

    async def _deliver_pending(self) -> bool:
        outbox = self._store.outbox
        blocked: set[str] = set()
        items = await self._store.run(outbox.pending, 200)
        for item in items:
            if self._closing:
                return False
            if item.channel_id in blocked:
                continue
            if not await self._store.run(outbox.claim, item.id, lease_s=LEASE_S):
                # Another process is posting this channel's head item (or crashed doing
                # so): leave the channel alone and look again later.
                blocked.add(item.channel_id)
                continue
            try:
                async with asyncio.timeout(LEASE_S / 2):
                    resp = await self._client.chat_postMessage(
                        channel=item.channel_id,
                        text=item.payload["text"],
                        blocks=item.payload["blocks"],
                        unfurl_links=False,
                    )
            except asyncio.CancelledError:
                # Stopping mid-post: release the claim now (sync, the loop is going away)
                # so the next start does not wait for the lease.
                outbox.mark_attempt(item.id, "interrupted by shutdown")
                raise
            except (TimeoutError, SlackApiError, OSError) as exc:
                error = _describe(exc)
                if _permanent(exc):
                    log.error("notification %s to %s given up: %s", item.id, item.channel_id, error)
                    await self._store.run(outbox.mark_failed, item.id, error)
                    continue
                log.warning(
                    "notification %s to %s not delivered: %s", item.id, item.channel_id, error
                )
                await self._store.run(outbox.mark_attempt, item.id, error)
                blocked.add(item.channel_id)
                continue
            await self._store.run(outbox.mark_sent, item.id, resp.get("ts"))
        if len(items) == 200:
            self._again = True
        if blocked:
            self._failures += 1
            return True
        self._failures = 0
        return False

    def _schedule_retry(self) -> None:
        if self._closing:
            return
        if self._retry is not None:
            self._retry.cancel()
        delay = RETRY_DELAYS_S[min(self._failures, len(RETRY_DELAYS_S)) - 1]
        self._retry = asyncio.get_running_loop().call_later(delay, self.kick)


def _error_code(exc: SlackApiError) -> str | None:
    """Slack's error code; None when the body was not JSON (e.g. an HTML 5xx page)."""
    data = exc.response.data
    return data.get("error") if isinstance(data, dict) else None


def _permanent(exc: BaseException) -> bool:
    return isinstance(exc, SlackApiError) and _error_code(exc) in PERMANENT_ERRORS


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"Slack answered {exc.response.status_code}: {_error_code(exc)}"
    return f"{type(exc).__name__}: {exc}"
