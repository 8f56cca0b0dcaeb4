"""Block Kit for the inputs of the campaign modal: text and number inputs, the call-list and
IVR selects (static up to STATIC_MAX options, type-ahead beyond) and one retry rule's row.
Pure functions, no I/O; views.py puts them together into the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ExternalDataMultiSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticMultiSelectElement,
    StaticSelectElement,
)

from bot.ids import positive_int
from handlers.blocks import (
    clip,
    seconds_hint,
)
from handlers.campaign_form import fields as f

LISTS_ACTION = "campaign_form:call_lists"  # external select: the options listener answers it
IVR_ACTION = "campaign_form:ivr"
VALUE = "value"  # action_id of every other input (block ids tell them apart)
STATIC_MAX = 100  # options in a static select (facts.md §2); beyond, an external select
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
