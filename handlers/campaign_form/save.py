"""Saving the campaign modal: one save (name check, audit, the single POST/PUT, then the
verdict as the ack or as a later views.update, a DM and a notification), and the per-bot
memory that keeps a form from being saved twice. See listeners.py for the timing rules.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.actor import Actor
from bot.dialer import DialerClient, DialerError
from bot.recorded import outcome_of, recorded
from bot.services import Services
from handlers.blocks import message
from handlers.campaign_form import fields as f
from handlers.campaign_form import views

log = logging.getLogger(__name__)

DONE_MEMORY = 500


# ---- per-bot memory (keyed on the dialer client: one per running bot) -----------------------


@dataclass
class _Memory:
    choices: dict[str, tuple[float, list[f.Choice]]] = field(default_factory=dict)
    saving: set[str] = field(default_factory=set)  # view ids with a save in flight
    done: deque[str] = field(default_factory=lambda: deque(maxlen=DONE_MEMORY))


_MEMORY: weakref.WeakKeyDictionary[DialerClient, _Memory] = weakref.WeakKeyDictionary()


def memory(services: Services) -> _Memory:
    mem = _MEMORY.get(services.dialer)
    if mem is None:
        mem = _MEMORY[services.dialer] = _Memory()
    return mem


async def update_view(
    services: Services, view_id: str, view: dict[str, Any], view_hash: str | None = None
) -> bool:
    """views.update; a closed modal or a newer version (hash_conflict) is not an error."""
    try:
        await services.client.views_update(view_id=view_id, hash=view_hash, view=view)
    except SlackApiError as exc:
        log.warning("views.update of %s failed: %s", view_id, exc.response.get("error"))
        return False
    return True


@dataclass
class Verdict:
    """What the dialer part of a save came to."""

    kind: str  # ok | invalid (field errors) | top (message, no field) | unknown (answer lost)
    campaign_id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)
    text: str = ""


class Save:
    """One save: name check, audit, the single POST/PUT, then messages.

    `verdict` resolves as soon as the dialer part is decided; `handled` says whether the
    submission's ack showed it (True) or the modal is waiting on "Still saving…" (False).
    """

    def __init__(
        self,
        services: Services,
        actor: Actor,
        meta: f.FormMeta,
        parsed: f.Parsed,
        values: f.FormValues,
        options: views.FormOptions | None,
        view_id: str,
    ) -> None:
        loop = asyncio.get_running_loop()
        self.services = services
        self.actor = actor
        self.meta = meta
        self.payload: dict[str, Any] = parsed.payload or {}
        self.rule_rows = parsed.rule_rows
        self.values = values
        self.options = options
        self.view_id = view_id
        self.verdict: asyncio.Future[Verdict] = loop.create_future()
        self.handled: asyncio.Future[bool] = loop.create_future()

    @property
    def name(self) -> str:
        return str(self.payload.get("name") or "")

    async def run(self) -> None:
        mem = memory(self.services)
        try:
            verdict = await self._dialer_part()
        except Exception:
            log.exception("saving the campaign form failed")
            verdict = Verdict("top", text="Saving failed on our side; the error is logged.")
        finally:
            mem.saving.discard(self.view_id)
        if verdict.kind == "ok":
            mem.done.append(self.view_id)
        self.verdict.set_result(verdict)
        shown = await self.handled
        if not shown and self.view_id:
            await update_view(self.services, self.view_id, self.view_for(verdict))
        if verdict.kind == "ok" or not shown:
            await self._tell_user(verdict)
        if verdict.kind == "ok":
            await self._notify(verdict)

    async def _dialer_part(self) -> Verdict:
        dialer = self.services.dialer
        try:
            existing = await dialer.list_campaigns()
        except DialerError as exc:
            return Verdict("top", text=f"Could not check the name, so nothing was saved. {exc}")
        taken = [(c.id, c.name) for c in existing]
        # A clone's audit row names the original (as the dialer lists it now).
        source = self.meta.source
        origin = next((c.name for c in existing if c.id == source), None)
        named = f" {origin}" if origin else ""
        cloned = f" (a copy of #{source}{named})" if source is not None else ""
        if f.name_taken(self.name, taken, self.meta.campaign_id):
            return Verdict(
                "invalid",
                errors={f.NAME: f"A campaign named “{self.name}” already exists; choose another."},
            )
        creating = self.meta.mode == "create"
        try:
            async with recorded(
                self.services.store,
                self.actor,
                "create_campaign" if creating else "update_campaign",
                campaign_id=self.meta.campaign_id,
                request=self.payload,
            ) as rec:
                if creating:
                    result = await dialer.create_campaign(self.payload)
                else:
                    assert self.meta.campaign_id is not None
                    result = await dialer.update_campaign(self.meta.campaign_id, self.payload)
                # A new campaign's id is known only now: its completion row names it.
                rec.ok(f"#{result.id}: {result.message}{cloned}", campaign_id=result.id)
        except DialerError as exc:
            return self._verdict_for(exc)
        return Verdict("ok", campaign_id=result.id)

    def _verdict_for(self, exc: DialerError) -> Verdict:
        if outcome_of(exc) == "unknown":
            return Verdict("unknown")
        if exc.status == 400 and exc.fields:  # class-validator & co. name each property
            errors = _blocks_for_dialer_fields(exc.fields, self.rule_rows)
            if errors:
                said = {b: f"The dialer refused this: {p}" for b, p in errors.items()}
                return Verdict("invalid", errors=said)
        if exc.status == 400:
            block, problem = f.block_for_dialer_error(exc.message, self.rule_rows)
            if block is not None:
                return Verdict("invalid", errors={block: f"The dialer refused this: {problem}"})
            return Verdict("top", text=f"The dialer refused the campaign: {exc.message}")
        doing = "create the campaign" if self.meta.mode == "create" else "save the campaign"
        if exc.kind == "connection" and exc.sent is False:
            return Verdict("top", text=f"Could not {doing}: {exc} Nothing was sent.")
        return Verdict("top", text=f"Could not {doing}: {exc}")

    # ---- what the user sees

    def ack_for(self, verdict: Verdict) -> dict[str, Any]:
        if verdict.kind == "invalid":
            return {"response_action": "errors", "errors": verdict.errors}
        if verdict.kind == "top" and self.options is None:
            # Without the form's options the form cannot be rebuilt; the name block holds it.
            return {"response_action": "errors", "errors": {f.NAME: verdict.text[:1000]}}
        return {"response_action": "update", "view": self.view_for(verdict)}

    def view_for(self, verdict: Verdict) -> dict[str, Any]:
        if verdict.kind == "ok":
            assert verdict.campaign_id is not None
            return views.message_view(
                self.meta, views.done_text(self.meta.mode, verdict.campaign_id, self.name)
            )
        if verdict.kind == "unknown":
            return views.message_view(self.meta, views.unknown_text(self.meta.mode, self.name))
        text = verdict.text or " ".join(verdict.errors.values())
        if self.options is None:
            return views.message_view(self.meta, views.failed_text("save the campaign", text))
        return views.form_view(self.meta, self.values, self.options, top_error=text)

    async def _tell_user(self, verdict: Verdict) -> None:
        if verdict.kind == "ok":
            assert verdict.campaign_id is not None
            build = views.created_message if self.meta.mode == "create" else views.updated_message
            msg = build(verdict.campaign_id, self.name)
        elif verdict.kind == "unknown":
            msg = message(views.unknown_text(self.meta.mode, self.name))
        else:
            text = verdict.text or " ".join(verdict.errors.values())
            msg = message(views.failed_text("save the campaign", text))
        try:
            # A DM to the user id lands in the app's Messages tab (chat:write is enough).
            await self.services.client.chat_postMessage(
                channel=self.actor.user_id, text=msg["text"], blocks=msg["blocks"]
            )
        except SlackApiError as exc:
            log.warning("could not message %s: %s", self.actor.user_id, exc.response.get("error"))

    async def _notify(self, verdict: Verdict) -> None:
        assert verdict.campaign_id is not None
        note = views.notification(
            self.actor.user_id,
            self.meta.mode,
            verdict.campaign_id,
            self.name,
            self.actor.channel_id,
        )
        try:
            await self.services.notifier.publish(**note)
        except Exception:
            log.exception("could not queue the campaign notification")


def _blocks_for_dialer_fields(
    fields: tuple[tuple[str, str], ...], rule_rows: list[int]
) -> dict[str, str]:
    """The dialer's (property path, problem) pairs by block; problems naming no field of the
    form join the first that does (nothing is dropped). Empty when none names a field."""
    by_block: dict[str, list[str]] = {}
    loose: list[str] = []
    for path, problem in fields:
        block, _ = f.block_for_dialer_error(f"{path}: {problem}", rule_rows) if path else (None, "")
        if block is None:
            loose.append(f"{path}: {problem}" if path else problem)
        else:
            by_block.setdefault(block, []).append(problem)
    if not by_block:
        return {}
    first = next(iter(by_block))
    by_block[first].extend(loose)
    return {block: "; ".join(problems) for block, problems in by_block.items()}
