"""Channel notifications through an outbox, so a Slack outage delays them but loses none.

A notification about a subject (a campaign) goes, in a *threaded* channel (the default,
`/dialer subscribe threaded|flat`), into that subject's thread of the day: one parent
message per campaign per channel per day, updated in place with the campaign's state and
the last event, and each event a reply in the thread (``reply_broadcast`` for the
dangerous ones). A *flat* channel gets each as a top-level message, as before threads.

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
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from store import Delivery, OutboxItem, Store

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
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
    }
)


@dataclass(frozen=True)
class Notice:
    """One notification before it is queued for its channels.

    ``subject`` (e.g. ``campaign:12``) threads it in threaded channels; ``parent`` is the
    thread's parent message (the subject's current state and this event), posted or
    updated in place; ``broadcast`` also shows the reply in the channel.
    """

    text: str
    blocks: list[dict[str, Any]]
    subject: str | None = None
    parent: dict[str, Any] | None = None
    broadcast: bool = False


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

    async def deliveries(self, notice: Notice) -> list[Delivery]:
        """The notice for each channel, threaded or flat as the channel chose (read now, so
        a change of mode takes effect for the next message)."""
        channels = await self.channels()
        modes = await self._store.run(self._store.subscriptions.modes)
        day = time.strftime("%Y-%m-%d", time.gmtime())
        payload: dict[str, Any] = {"text": notice.text, "blocks": notice.blocks}
        out = []
        for channel in channels:
            threaded = modes.get(channel, "threaded") == "threaded"
            body = payload
            if threaded and notice.subject and notice.broadcast:
                body = {**payload, "reply_broadcast": True}
            out.append(
                Delivery(
                    channel,
                    body,
                    subject=notice.subject,
                    threaded=threaded,
                    parent=notice.parent,
                    day=day,
                )
            )
        return out

    async def publish(
        self,
        *,
        text: str,
        blocks: list[dict[str, Any]],
        subject: str | None = None,
        parent: dict[str, Any] | None = None,
        broadcast: bool = False,
    ) -> list[str]:
        """Queue the message for every channel in one transaction, then start delivery;
        returns the channels."""
        notice = Notice(text, blocks, subject, parent, broadcast)
        deliveries = await self.deliveries(notice)
        if deliveries:
            await self._store.run(self._store.outbox.enqueue_deliveries, deliveries)
            self.kick()
        return [d.channel_id for d in deliveries]

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
                    resp = await self._send(item)
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
            ts = resp.get("ts") if resp is not None else None
            await self._store.run(outbox.mark_sent, item.id, ts)
        if len(items) == 200:
            self._again = True
        if blocked:
            self._failures += 1
            return True
        self._failures = 0
        return False

    async def _send(self, item: OutboxItem) -> Any:
        """Post, reply in the parent's thread, or update the parent. The parent was settled
        before (it is older in the same channel); if its post failed for good, a reply is
        posted on its own and an update has nothing to update (None)."""
        p = item.payload
        thread_ts = None
        if item.kind in ("reply", "update"):
            parent = await self._store.run(self._store.outbox.parent_ts, item.parent_id)
            if parent is not None and parent[0] == "sent":
                thread_ts = parent[1]
            if item.kind == "update":
                if not thread_ts:
                    return None
                return await self._client.chat_update(
                    channel=item.channel_id, ts=thread_ts, text=p["text"], blocks=p["blocks"]
                )
        extra: dict[str, Any] = {}
        if thread_ts:
            extra["thread_ts"] = thread_ts
            if p.get("reply_broadcast"):
                extra["reply_broadcast"] = True
        return await self._client.chat_postMessage(
            channel=item.channel_id,
            text=p["text"],
            blocks=p["blocks"],
            unfurl_links=False,
            **extra,
        )

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
