"""The campaign modal: `/dialer new`, `/dialer edit <id>`, the Edit button, rule rows, submit.

Opening: the trigger_id dies 3 s after Slack sent it and the dialer may be slower, so a
loading view is opened at once and replaced (views.update with its hash) once the IVR apps,
call lists and, for an edit, the campaign are in.

Saving: checks that need no I/O run before the ack and come back inline
(`response_action="errors"`). The name check and the POST/PUT run in a tracked task; the
submission waits for their verdict for at most SAVE_BUDGET_S so that the ack stays inside
Slack's 3 s. In time, the verdict becomes the ack (inline errors, or the form again with the
problem on top, or a done view). Too late, the modal turns into "Still saving…" and the task
updates it and messages the user when the dialer answers. The POST is never repeated: a create
whose answer was lost is reported as unknown, not retried.

Dialer errors: a 400 names its field ("callerId: …"); that field's block gets the message.
`response_action="errors"` can only point at input blocks, so a message naming no field (or
any other failure) rebuilds the form from what the user typed with the message in a section on
top. That keeps everything entered, which pinning the message on the name field would too, but
without blaming a field that is fine.

private_metadata is treated as untrusted: parsed strictly (FormMeta.load) and the role is
checked again on submit, for the channel the form was opened from.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.access import REQUIRED_ROLE
from bot.audit import Actor, outcome_of, recorded
from bot.dialer import Campaign, DialerClient, DialerError
from bot.services import Services
from handlers.blocks import dialer_error_text, esc, message, missing_campaign
from handlers.campaign_form import fields as f
from handlers.campaign_form import views
from handlers.guard import audit_denied, id_button
from handlers.request import Request

log = logging.getLogger(__name__)

SAVE_BUDGET_S = 2.0  # name check + POST/PUT before the ack; Slack gives 3 s in all
OPTIONS_BUDGET_S = 2.0  # type-ahead answers are the ack itself
CHOICES_TTL_S = 30.0  # type-ahead asks on every key stroke: reuse the lists for a while
EDIT_CHECK_S = 1.5  # `edit <id>` checks the campaign exists before the form opens


# ---- opening ------------------------------------------------------------------------------


async def open_new(req: Request, _parsed: Any = None) -> None:
    await open_form(req, f.FormMeta("create", None, _channel(req.actor.channel_id), 1))


async def open_edit(req: Request, campaign_id: int) -> None:
    """A campaign that does not exist is said at once, instead of a form that fails inside.

    Slack's trigger lasts 3 s, so the check gets EDIT_CHECK_S; a slower dialer is asked
    again by the form itself.
    """
    try:
        await asyncio.wait_for(req.services.dialer.get_campaign(campaign_id), EDIT_CHECK_S)
    except DialerError as exc:
        paths = req.services.dialer.paths
        if missing_campaign(exc, paths) is not None:
            text = dialer_error_text(exc, f"edit campaign #{campaign_id}", paths)
            await req.reply(message(text))
            return
    except TimeoutError:
        pass
    await open_form(req, f.FormMeta("edit", campaign_id, _channel(req.actor.channel_id), 1))


async def open_clone(req: Request, campaign_id: int) -> None:
    """A create form filled from campaign ``campaign_id``, named "<name> (copy)"."""
    meta = f.FormMeta("create", None, _channel(req.actor.channel_id), 1, source=campaign_id)
    await open_form(req, meta)


def _channel(channel_id: str | None) -> str | None:
    """Only a well-formed channel id goes into the metadata (FormMeta.load would refuse it)."""
    return channel_id if channel_id and f.CHANNEL_RE.fullmatch(channel_id) else None


async def open_form(req: Request, meta: f.FormMeta) -> None:
    """Loading view first (uses the trigger in time), then the real form."""
    client = req.services.client
    if not req.trigger_id:
        await req.reply(message(":warning: Slack sent no trigger to open a form with."))
        return
    try:
        opened = await client.views_open(trigger_id=req.trigger_id, view=views.loading_view(meta))
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        await req.reply(
            message(
                f":warning: Could not open the campaign form: Slack answered "
                f"`{esc(error or 'an error')}`. Run the command again."
            )
        )
        return
    view = opened["view"]
    try:
        form = await _form_for(req.services, meta)
    except DialerError as exc:
        doing = "load the campaign" if meta.mode == "edit" or meta.source else "load the form"
        form = views.message_view(meta, dialer_error_text(exc, doing))
    await update_view(req.services, view["id"], form, view.get("hash"))


async def _form_for(services: Services, meta: f.FormMeta) -> dict[str, Any]:
    dialer = services.dialer
    taken: list[str] = []
    if meta.mode == "edit":
        assert meta.campaign_id is not None
        ivr, lists, campaign = await asyncio.gather(
            dialer.list_ivr(), dialer.list_call_lists(), dialer.get_campaign(meta.campaign_id)
        )
    elif meta.source is not None:  # a clone: the original's values, a free "(copy)" name
        ivr, lists, campaign, existing = await asyncio.gather(
            dialer.list_ivr(),
            dialer.list_call_lists(),
            dialer.get_campaign(meta.source),
            dialer.list_campaigns(),
        )
        taken = [c.name for c in existing]
    else:
        ivr, lists = await asyncio.gather(dialer.list_ivr(), dialer.list_call_lists())
        campaign = None
    ivr_choices = _ivr_choices(ivr)
    list_choices = _list_choices(lists)
    mem = memory(services)
    now = time.monotonic()
    mem.choices["ivr"] = (now, ivr_choices)
    mem.choices["lists"] = (now, list_choices)
    options = views.FormOptions.build(ivr_choices, list_choices)
    if campaign is None:
        values = f.FormValues()
    else:
        values = f.values_from_campaign(
            campaign, dict((int(v), label) for v, label in list_choices), dict(ivr_choices)
        )
        if meta.source is not None:
            values = replace(values, name=copy_name(campaign.name, taken))
    return views.form_view(meta.with_rules(len(values.rules)), values, options)


def copy_name(name: str, taken: list[str]) -> str:
    """ "<name> (copy)", or "(copy 2)", … when that is taken too; within f.MAX_NAME."""
    folded = {t.strip().casefold() for t in taken}
    for n in range(1, 100):
        suffix = " (copy)" if n == 1 else f" (copy {n})"
        candidate = name[: f.MAX_NAME - len(suffix)] + suffix
        if candidate.casefold() not in folded:
            return candidate
    return name[: f.MAX_NAME - 7] + " (copy)"


def _ivr_choices(apps: list[Any]) -> list[f.Choice]:
    return [(a.id, a.name or a.id) for a in apps]


def _list_choices(lists: list[Any]) -> list[f.Choice]:
    return [
        (str(cl.id), views.list_label(cl.id, cl.name, cl.numbers_count))
        for cl in sorted(lists, key=lambda cl: cl.id)
    ]


# Clone on the detail view: the create form filled from that campaign.
on_clone_button = id_button("clone", "open the campaign form", open_clone, names_campaign=True)


# Edit on the "campaign created" message (or anywhere else): opens the edit form.
on_edit_button = id_button("edit", "open the campaign form", open_edit, names_campaign=True)


async def on_rule_button(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """Add or remove a reschedule rule row: rebuild the form from what is typed so far."""
    await ack()
    services: Services = context["services"]
    view = body.get("view") or {}
    meta = f.FormMeta.load(view.get("private_metadata"))
    if meta is None or not view.get("id"):
        return
    values = f.read_values((view.get("state") or {}).get("values") or {}, meta.rules)
    if body["actions"][0].get("action_id") == views.ADD_RULE:
        if len(values.rules) < f.MAX_RULES:
            values.rules.append(f.RuleValues())
    elif values.rules:
        values.rules.pop()

    async def run() -> None:
        options = views.options_from_view(view) or await _fresh_options(services)
        form = views.form_view(meta, values, options)
        await update_view(services, view["id"], form, view.get("hash"))

    services.tasks.spawn(run(), name="campaign form rules")


async def _fresh_options(services: Services) -> views.FormOptions:
    ivr, lists = await asyncio.gather(_choices(services, "ivr"), _choices(services, "lists"))
    return views.FormOptions.build(ivr, lists)


async def _choices(services: Services, kind: str) -> list[f.Choice]:
    """IVR apps or call lists as select choices, reused for CHOICES_TTL_S."""
    mem = memory(services)
    cached = mem.choices.get(kind)
    if cached and time.monotonic() - cached[0] < CHOICES_TTL_S:
        return cached[1]
    if kind == "ivr":
        choices = _ivr_choices(await services.dialer.list_ivr())
    else:
        choices = _list_choices(await services.dialer.list_call_lists())
    mem.choices[kind] = (time.monotonic(), choices)
    return choices


# ---- type-ahead -----------------------------------------------------------------------------


async def on_options(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """External selects (more than 100 call lists or IVR apps): names matching what is typed."""
    services: Services = context["services"]
    kind = "ivr" if body.get("action_id") == views.IVR_ACTION else "lists"
    meta = f.FormMeta.load((body.get("view") or {}).get("private_metadata"))
    channel = meta.channel_id if meta else None
    decision = await services.access.check(context.user_id or "", channel, "lists")
    if not decision.allowed:
        await ack(options=[])
        return
    try:
        choices = await asyncio.wait_for(_choices(services, kind), OPTIONS_BUDGET_S)
    except (TimeoutError, DialerError) as exc:
        log.warning("type-ahead for %s without answer: %r", kind, exc)
        await ack(options=[])
        return
    await ack(options=views.option_items(choices, str(body.get("value") or "")))


# ---- submit ---------------------------------------------------------------------------------


async def on_submit(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    services: Services = context["services"]
    view = body.get("view") or {}
    meta = f.FormMeta.load(view.get("private_metadata"))
    if meta is None:
        await ack(
            response_action="errors",
            errors={f.NAME: "This form is damaged; close it and open it again."},
        )
        return
    user = body.get("user") or {}
    actor = Actor(
        user_id=context.user_id or "",
        channel_id=meta.channel_id,
        team_id=context.team_id,
        user_name=user.get("username") or user.get("name"),
    )
    action = "new" if meta.mode == "create" else "edit"
    decision = await services.access.check(actor.user_id, actor.channel_id, action)
    if not decision.allowed:
        needed = decision.needed or REQUIRED_ROLE.get(action) or "admin"
        await ack(
            response_action="errors",
            errors={
                f.NAME: f"You need the {needed} role here to save campaigns; you have "
                f"{decision.has or 'no role'}. Nothing was saved."
            },
        )
        services.tasks.spawn(
            audit_denied(
                services.store,
                actor,
                decision,
                campaign_id=meta.campaign_id,
                where="campaign form submit",
            )
        )
        return
    values = f.read_values((view.get("state") or {}).get("values") or {}, meta.rules)
    parsed = f.validate(values, services.settings.default_region)
    if parsed.payload is None:
        await ack(response_action="errors", errors=parsed.errors)
        return
    mem = memory(services)
    view_id = str(view.get("id") or "")
    if view_id in mem.saving or view_id in mem.done:
        await ack(
            response_action="errors",
            errors={f.NAME: "This form was already submitted; it is not sent twice."},
        )
        return
    options = views.options_from_view(view)
    save = Save(services, actor, meta, parsed, values, options, view_id)
    mem.saving.add(view_id)
    services.tasks.spawn(save.run(), name=f"save campaign form {view_id}")
    in_time = False
    try:
        done, _ = await asyncio.wait({save.verdict}, timeout=SAVE_BUDGET_S)
        in_time = bool(done)
        if in_time:
            await ack(**save.ack_for(save.verdict.result()))
        else:
            await ack(response_action="update", view=views.message_view(meta, views.saving_text()))
    finally:
        if not save.handled.done():
            save.handled.set_result(in_time)


# ---------------------------------------------------------------------------- saving
# One save: name check, audit, the single POST/PUT, then the verdict as the ack or as a
# later views.update, a DM and a notification; and the per-bot memory that keeps a form
# from being saved twice.

log = logging.getLogger(__name__)

DONE_MEMORY = 500


# ---- per-bot memory (keyed on the dialer client: one per running bot) -----------------------


@dataclass
class _Memory:
    choices: dict[str, tuple[float, list[f.Choice]]] = field(default_factory=dict)
    saving: set[str] = field(default_factory=set)  # view ids with a save in flight
    # (view id, payload) pairs whose calling-hours warning was shown: the same form
    # submitted again unchanged is saved anyway.
    warned: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=DONE_MEMORY))
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
        warning = await self._calling_hours()
        if warning is not None:
            return warning
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

    async def _calling_hours(self) -> Verdict | None:
        """Before saving: would its active period call people outside the permitted hours
        at their local time? Said once under the week days; the same form submitted again
        unchanged is saved (a campaign saved calls nobody until it is started, and its start
        is checked again)."""
        key = (self.view_id, json.dumps(self.payload, sort_keys=True, default=str))
        mem = memory(self.services)
        if key in mem.warned:
            return None
        campaign = Campaign.from_api({**self.payload, "id": self.meta.campaign_id or 0})
        report = await self.services.controller.hours_report(campaign)
        if not report.violations:
            return None
        mem.warned.append(key)
        lines = "; ".join(v.text for v in report.violations[:5])
        extra = len(report.violations) - 5
        more = f" (and {extra} more zones)" if extra > 0 else ""
        return Verdict(
            "invalid",
            errors={
                f.WEEK_DAYS: (
                    f"Calling hours: {lines}{more}. A number with several possible zones "
                    "counts in each. Submit again to save anyway."
                )[:2000]
            },
        )

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
