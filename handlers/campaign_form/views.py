"""Block Kit for the campaign modal and its follow-up messages: pure functions, no I/O.

First the inputs: text and number inputs, the call-list and IVR selects (static up to
STATIC_MAX options, type-ahead beyond) and one retry rule's row; then the form built of them.

The form is always rebuilt from a FormValues (empty, from a campaign, or from what the user
typed), so adding a rule row or showing a dialer error never loses anything entered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ExternalDataMultiSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.find import positive_int
from handlers.blocks import (
    DAY_NAMES,
    Block,
    actions,
    button,
    clip,
    context,
    esc,
    message,
    plural,
    seconds_hint,
    section,
    slack_time,
)
from handlers.campaign_form import fields as f

# ---------------------------------------------------------------------------- inputs

LISTS_ACTION = "campaign_form:call_lists"  # external select: the options listener answers it
IVR_ACTION = "campaign_form:ivr"
VALUE = "value"  # action_id of every other input (block ids tell them apart)
STATIC_MAX = 100  # options in a static select (Slack's limit); beyond, an external select
OPTION_TEXT_MAX = 75


@dataclass(frozen=True)
class FormOptions:
    """Choices for the selects; None means too many for a static select (type-ahead)."""

    ivr: list[f.Choice] | None
    call_lists: list[f.Choice] | None

    @classmethod
    def build(cls, ivr: list[f.Choice], call_lists: list[f.Choice]) -> FormOptions:
        return cls(
            ivr=ivr if len(ivr) <= STATIC_MAX else None,
            call_lists=call_lists if len(call_lists) <= STATIC_MAX else None,
        )


def option_of(choice: f.Choice) -> Option:
    value, label = choice
    text = clip(label or value, OPTION_TEXT_MAX)
    return Option(value=value[:150], text=PlainTextObject(text=text))


def text_input(
    block: str,
    label: str,
    value: str | None,
    *,
    hint: str | None = None,
    optional: bool = False,
    placeholder: str | None = None,
    max_length: int = f.MAX_TEXT,
) -> InputBlock:
    return InputBlock(
        block_id=block,
        label=label,
        hint=hint,
        optional=optional,
        element=PlainTextInputElement(
            action_id=VALUE,
            initial_value=value or None,
            placeholder=placeholder,
            max_length=max_length,
        ),
    )


def number_input(
    block: str,
    label: str,
    value: str | None,
    *,
    hint: str | None,
    decimal: bool = False,
    optional: bool = True,
) -> InputBlock:
    return InputBlock(
        block_id=block,
        label=label,
        hint=hint,
        optional=optional,
        element=NumberInputElement(
            action_id=VALUE, is_decimal_allowed=decimal, initial_value=(value or "").strip() or None
        ),
    )


def call_lists_input(values: f.FormValues, options: FormOptions) -> InputBlock:
    if options.call_lists is None:
        element: Any = ExternalDataMultiSelectElement(
            action_id=LISTS_ACTION,
            placeholder="Type to search call lists",
            min_query_length=0,
            initial_options=[option_of(c) for c in values.call_lists] or None,
        )
        hint = "Type part of a name or an id."
    else:
        selected = {v for v, _ in values.call_lists}
        chosen = [c for c in options.call_lists if c[0] in selected]  # lists gone are dropped
        element = StaticMultiSelectElement(
            action_id=VALUE,
            placeholder="Choose call lists",
            # Slack needs at least one option; "0" is no call list id and fails validation.
            options=[option_of(c) for c in options.call_lists] or [option_of(("0", "(none)"))],
            initial_options=[option_of(c) for c in chosen] or None,
        )
        hint = None if options.call_lists else "No call list yet: upload one first."
    return InputBlock(block_id=f.CALL_LISTS, label="Call lists", element=element, hint=hint)


def ivr_input(values: f.FormValues, options: FormOptions) -> InputBlock:
    if options.ivr is None:
        element: Any = ExternalDataSelectElement(
            action_id=IVR_ACTION,
            placeholder="Type to search IVR applications",
            min_query_length=0,
            initial_option=option_of(values.ivr) if values.ivr else None,
        )
    else:
        chosen = next((c for c in options.ivr if values.ivr and c[0] == values.ivr[0]), None)
        element = StaticSelectElement(
            action_id=VALUE,
            placeholder="Choose an IVR application",
            options=[option_of(c) for c in options.ivr] or [option_of(("", "(none)"))],
            initial_option=option_of(chosen) if chosen else None,
        )
    return InputBlock(
        block_id=f.IVR,
        label="IVR application",
        element=element,
        hint="Answered calls are sent to this application.",
    )


def retry_hint(raw: str | None) -> str:
    seconds = positive_int(raw or "", max_value=f.MAX_INT)
    if seconds is not None:
        return f"{seconds} s = {seconds_hint(seconds)}"
    return "Seconds, e.g. 900 = 15 min, 3600 = 1 h"


def rule_blocks(row: int, rule: f.RuleValues) -> list[InputBlock]:
    statuses = [(k, f"{label} ({k})") for k, label in f.RESCHEDULE_STATUSES.items()]
    chosen = next((c for c in statuses if c[0] == rule.status), None)
    n = row + 1
    return [
        InputBlock(
            block_id=f.rule_block(row, "status"),
            label=f"Rule {n}: call result",
            optional=True,
            element=StaticSelectElement(
                action_id=VALUE,
                placeholder="Choose a call result",
                options=[option_of(c) for c in statuses],
                initial_option=option_of(chosen) if chosen else None,
            ),
        ),
        number_input(
            f.rule_block(row, "retry"),
            f"Rule {n}: retry after (seconds)",
            rule.retry,
            hint=retry_hint(rule.retry),
        ),
        number_input(
            f.rule_block(row, "attempts"),
            f"Rule {n}: max attempts",
            rule.attempts,
            hint="How many times a number is tried for this result.",
        ),
    ]


def selected_options(
    pairs: list[f.Choice], selected: set[str]
) -> tuple[list[Option], list[Option]]:
    opts = [option_of(c) for c in pairs]
    return opts, [o for o, c in zip(opts, pairs, strict=True) if c[0] in selected]


# ----------------------------------------------------------- the form and the messages after saving

CALLBACK_ID = "campaign_form"
ADD_RULE = "campaign_form:add_rule"
REMOVE_RULE = "campaign_form:remove_rule"
EDIT_ACTION = "campaign:edit"
CLONE_ACTION = "campaign:clone"
ERROR_BLOCK = "form_error"


def title(meta: f.FormMeta) -> str:
    if meta.mode == "create":
        return "Clone campaign" if meta.source is not None else "New campaign"
    long = f"Edit campaign #{meta.campaign_id}"
    return long if len(long) <= 24 else clip(f"Edit #{meta.campaign_id}", 24)


def _view(meta: f.FormMeta, blocks: list[Block], *, submit: str | None) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=PlainTextObject(text=title(meta)),
        submit=PlainTextObject(text=submit) if submit else None,
        close=PlainTextObject(text="Cancel" if submit else "Close"),
        private_metadata=meta.dump(),
        blocks=blocks,
    ).to_dict()


def loading_view(meta: f.FormMeta) -> dict[str, Any]:
    """Opened at once so the trigger (valid 3 s) is used before the dialer is asked."""
    return _view(
        meta, [section(":hourglass_flowing_sand: Loading IVR apps and call lists…")], submit=None
    )


def message_view(meta: f.FormMeta, text: str) -> dict[str, Any]:
    """A modal that only says something (errors, 'still saving', results); `text` is mrkdwn
    the caller has escaped."""
    return _view(meta, [section(text)], submit=None)


def form_view(
    meta: f.FormMeta,
    values: f.FormValues,
    options: FormOptions,
    *,
    top_error: str | None = None,
) -> dict[str, Any]:
    """The whole form; `top_error` (plain words, escaped here) is shown above the fields."""
    rows = values.rules[: f.MAX_ROWS]
    meta = meta.with_rules(len(rows))
    blocks: list[Any] = []
    if top_error:
        blocks.append(section(f":warning: {esc(top_error)}"))
        blocks[-1]["block_id"] = ERROR_BLOCK
    blocks.append(
        text_input(
            f.NAME,
            "Name",
            values.name,
            hint="Shown in the dialer's stats; unique.",
            max_length=f.MAX_NAME,
        )
    )
    blocks.append(
        text_input(
            f.CALLER_ID,
            "Caller ID",
            values.caller_id,
            placeholder="+420222000800",
            hint="The number people see: digits, optional leading +, at most 15 digits.",
            max_length=16,
        )
    )
    for block, label, value in (
        (f.START, "Active from", values.start),
        (f.END, "Active until", values.end),
    ):
        blocks.append(
            InputBlock(
                block_id=block,
                label=label,
                element=TimePickerElement(action_id=VALUE, initial_time=value or None),
            )
        )
    overnight, ticked = selected_options(
        [("1", "Runs overnight (ends the next day)")], {"1"} if values.overnight else set()
    )
    blocks.append(
        InputBlock(
            block_id=f.OVERNIGHT,
            label="Past midnight",
            optional=True,
            element=CheckboxesElement(
                action_id=VALUE, options=overnight, initial_options=ticked or None
            ),
        )
    )
    day_opts, day_sel = selected_options(
        [(str(i), name) for i, name in enumerate(DAY_NAMES, start=1)],
        {str(d) for d in values.week_days},
    )
    blocks.append(
        InputBlock(
            block_id=f.WEEK_DAYS,
            label="Week days",
            element=CheckboxesElement(
                action_id=VALUE, options=day_opts, initial_options=day_sel or None
            ),
        )
    )
    blocks.append(call_lists_input(values, options))
    blocks.append(ivr_input(values, options))
    blocks.append(
        section(
            f"*Reschedule rules* (up to {f.MAX_RULES}): retry numbers whose call ended with a "
            "given result. Leave a rule empty for none."
        )
    )
    for row, rule in enumerate(rows):
        blocks.extend(rule_blocks(row, rule))
    buttons = []
    if len(rows) < f.MAX_RULES:
        buttons.append(button("Add rule", ADD_RULE, "add"))
    if rows:
        buttons.append(button("Remove last rule", REMOVE_RULE, "remove"))
    if buttons:
        blocks.append(actions(*buttons, block_id="rule_buttons"))
    ep_opts, ep_sel = selected_options(list(f.ENDPOINT_TYPES.items()), {values.endpoint_type})
    blocks.append(
        InputBlock(
            block_id=f.ENDPOINT_TYPE,
            label="Endpoint",
            hint="Queue: calls are paced by the free agents on a queue.",
            element=RadioButtonsElement(
                action_id=VALUE, options=ep_opts, initial_option=ep_sel[0] if ep_sel else None
            ),
        )
    )
    blocks.append(
        text_input(
            f.QUEUE,
            "Queue name",
            values.queue,
            optional=True,
            hint="Only for queue endpoints: the queue to observe.",
        )
    )
    blocks.append(
        number_input(
            f.BOOST,
            "Boost factor",
            values.boost,
            decimal=True,
            hint="Only for queue endpoints: multiplies the free agents (default 1).",
        )
    )
    blocks.append(
        number_input(
            f.MAX_WAITING,
            "Max waiting calls",
            values.max_waiting,
            hint="Only for queue endpoints: no new calls above this (default 2).",
        )
    )
    rendered = [b if isinstance(b, dict) else b.to_dict() for b in blocks]
    return _view(meta, rendered, submit="Create" if meta.mode == "create" else "Save")


def options_from_view(view: dict[str, Any]) -> FormOptions | None:
    """The select options the current view carries, so a rebuild needs no dialer call.
    None when the view does not look like the form (then the caller asks the dialer)."""
    found: dict[str, list[f.Choice] | None] = {}
    for block in view.get("blocks") or []:
        if not isinstance(block, dict) or block.get("block_id") not in (f.IVR, f.CALL_LISTS):
            continue
        element = block.get("element") or {}
        if element.get("type") in ("external_select", "multi_external_select"):
            found[block["block_id"]] = None
            continue
        choices = []
        for opt in element.get("options") or []:
            text = (opt.get("text") or {}).get("text")
            value = opt.get("value")
            placeholder = value == "0" and block["block_id"] == f.CALL_LISTS
            if isinstance(value, str) and value and isinstance(text, str) and not placeholder:
                choices.append((value, text))
        found[block["block_id"]] = choices
    if f.IVR not in found or f.CALL_LISTS not in found:
        return None
    return FormOptions(ivr=found[f.IVR], call_lists=found[f.CALL_LISTS])


def option_items(choices: list[f.Choice], query: str, limit: int = STATIC_MAX) -> list[dict]:
    """Type-ahead answer: names containing the query (case-insensitive) or the exact id."""
    q = query.strip().casefold()
    hits = [c for c in choices if not q or q in c[1].casefold() or q == c[0].casefold()]
    return [option_of(c).to_dict() for c in hits[:limit]]


def list_label(list_id: int, name: str, count: int | None) -> str:
    return f"{name} (#{list_id}, {plural(count or 0, 'number')})"


# ---- after saving ------------------------------------------------------------------------


def saving_text() -> str:
    return (
        ":hourglass_flowing_sand: Still saving: the dialer is slow to answer. "
        "You can close this; the result will be sent to you in a direct message."
    )


def created_message(campaign_id: int, name: str) -> dict[str, Any]:
    text = f"Campaign *{esc(name)}* created (#{campaign_id}). It is stopped until you start it."
    return message(
        f"Campaign {esc(name)} created (#{campaign_id})",
        [
            section(text),
            actions(
                button("Start", "control:start", str(campaign_id), style="primary"),
                button("Edit", EDIT_ACTION, str(campaign_id)),
                block_id=f"campaign:{campaign_id}",
            ),
        ],
    )


def updated_message(campaign_id: int, name: str) -> dict[str, Any]:
    return message(
        f"Campaign {esc(name)} (#{campaign_id}) saved",
        [
            section(f"Campaign *{esc(name)}* (#{campaign_id}) saved."),
            actions(
                button("Edit again", EDIT_ACTION, str(campaign_id)),
                block_id=f"campaign:{campaign_id}",
            ),
        ],
    )


def done_text(mode: str, campaign_id: int, name: str) -> str:
    verb = "created" if mode == "create" else "saved"
    return f":white_check_mark: Campaign *{esc(name)}* (#{campaign_id}) {verb}."


def failed_text(doing: str, detail: str) -> str:
    """`detail` is escaped here: it may hold the dialer's words."""
    return f":warning: Could not {doing}: {esc(detail)}"


def unknown_text(mode: str, name: str) -> str:
    what = "created" if mode == "create" else "saved"
    return (
        f":grey_question: The dialer did not answer in time, so we do not know whether "
        f"campaign *{esc(name)}* was {what}. It was not sent again: check `/dialer campaigns` "
        "before trying once more."
    )


def notification(
    user_id: str, mode: str, campaign_id: int, name: str, origin_channel: str | None
) -> dict[str, Any]:
    verb = "created" if mode == "create" else "updated"
    text = f"<@{user_id}> {verb} campaign *{esc(name)}* (#{campaign_id})"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    shown = origin_channel and origin_channel[0] in "CG"  # a DM is nobody else's business
    where = f" · from <#{origin_channel}>" if shown else ""
    return message(text, [section(text), context(f"{slack_time(now)}{where}")])
