"""A file (or pasted numbers) added to the do-not-call list through the call-list form: the
same download, checks, progress and line-numbered errors, with the numbers going to the
list in batches as they are read instead of into a request body.

The audit row is written first (write-ahead, bot/audit.py) and completed with the counts;
an import stopped by a bad line keeps what it added before it (adding is the safe
direction) and says so in the audit row and the message.
"""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import Awaitable, Callable

from bot.audit import recorded
from bot.numbers import BadInput, Prepared, Progress, StoreKeys
from handlers.request import Request

DNC_ROLE_ACTION = "dnc upload"  # bot/access.py, and the audit action
PASTED = "pasted numbers"

Prepare = Callable[[Progress, StoreKeys], Awaitable[Prepared]]


async def import_numbers(
    req: Request, reason: str, file_name: str | None, progress: Progress, prepare: Prepare
) -> Prepared:
    """Run ``prepare`` with a sink that adds each batch of numbers to the list, between the
    audit log's pending and completion rows. BadInput propagates after the completion."""
    store, actor = req.services.store, req.actor
    source = file_name or PASTED
    stopped: BadInput | None = None
    request = {"reason": reason, "file": source}
    async with recorded(store, actor, DNC_ROLE_ACTION, request=request) as rec:
        change_id = await store.run(
            lambda: store.dnc.begin(
                "add",
                user_id=actor.user_id,
                user_name=actor.user_name,
                reason=reason,
                source=source,
                audit_id=rec.pending_id,
            )
        )

        # A writer of its own: the import never holds the store's lock (store/dnc.py).
        writer = await store.run(store.dnc.importer, change_id)

        def store_keys(keys: array) -> int:  # runs in a worker thread (the merge step)
            return writer.add(keys)

        try:
            prepared = await prepare(progress, store_keys)
        except BadInput as exc:
            stopped = exc
            added = await store.run(store.dnc.numbers_of, change_id)
            rec.ok(f"stopped ({exc}); {added:,} numbers from {source} added before that")
        else:
            c = prepared.counts
            rec.ok(
                f"{c.valid:,} numbers added to the do-not-call list from {source}, "
                f"{c.duplicates:,} already listed or repeated, {c.invalid:,} invalid "
                f"of {c.read:,} read"
            )
        finally:
            await asyncio.to_thread(writer.close)
    if stopped is not None:
        raise stopped
    return prepared
