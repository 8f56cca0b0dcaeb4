"""The Slack half of "argument → id, or ask" (bot/find.py is the matching half).

A name that matches one campaign (or call list) gives its id and the caller proceeds as
with the id; otherwise the person gets the candidates, or the nearest names, as buttons
that each act on their own id. Nothing runs until one is pressed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.dialer import COMMANDS, Campaign
from bot.find import Found, Ref, find_call_list, find_campaign
from handlers.blocks import (
    Block,
    actions,
    button,
    context,
    esc,
    header,
    message,
    section,
    state_label,
)
from handlers.request import Request

# Which button a candidate gets, per subcommand: (label, action_id). Control buttons go
# through the usual confirmation (or, for pause, run at once on the chosen id).
CAMPAIGN_BUTTON: dict[str, tuple[str, str]] = {
    "campaign": ("Details", "campaign:show"),
    "edit": ("Edit", "campaign:edit"),
    "clone": ("Clone", "campaign:clone"),
    "history": ("History", "campaign:history"),
    **{cmd: (cmd.capitalize(), f"control:{cmd}") for cmd in COMMANDS},
}
CALL_LIST_BUTTON = ("Details", "call_list:show")


# A candidate's button made by the caller: (label, action_id, value of a campaign id).
PickButton = tuple[str, str, Callable[[int], str]]


def _allows(command: str) -> Callable[[Campaign], bool]:
    """As listings do: a campaign whose state allows `command` (any, for an unknown state)."""
    return lambda c: command in c.allowed_commands


async def campaign_id_or_ask(
    req: Request,
    ref: Ref,
    action: str,
    *,
    word_for_word: bool = False,
    button: PickButton | None = None,
) -> int | None:
    """The campaign id to act on, or None once the person has been asked to choose.

    ``button``: the candidates' button when the subcommand's usual one does not fit (a
    scheduled command: the button schedules, with the time typed, instead of running now)."""
    if ref.id is not None:
        return ref.id
    assert ref.name is not None
    found = await find_campaign(req.services.dialer, ref.name, word_for_word=word_for_word)
    if found.match is not None:
        return found.match.id
    label, action_id = CAMPAIGN_BUTTON.get(action, CAMPAIGN_BUTTON["campaign"])
    value: Callable[[int], str] = str
    offers: Callable[[Campaign], bool] | None = None
    if button is not None:
        label, action_id, value = button
    elif action in COMMANDS:
        offers = _allows(action)
    await req.reply(
        choose_message(
            found,
            "campaign",
            action,
            lambda c: f"*{esc(c.name)}* (#{c.id}) — {state_label(c.state)}",
            label,
            action_id,
            strict=word_for_word,
            value=value,
            offers=offers,
        )
    )
    return None


async def call_list_id_or_ask(req: Request, ref: Ref) -> int | None:
    """The call-list id to show, or None once the person has been asked to choose."""
    if ref.id is not None:
        return ref.id
    assert ref.name is not None
    found = await find_call_list(req.services.dialer, ref.name)
    if found.match is not None:
        return found.match.id
    label, action_id = CALL_LIST_BUTTON
    await req.reply(
        choose_message(
            found,
            "call list",
            "list",
            lambda cl: f"*{esc(cl.name)}* (#{cl.id}) — {cl.numbers_count or 0} numbers",
            label,
            action_id,
        )
    )
    return None


def choose_message(
    found: Found[Any],
    what: str,
    action: str,
    line: Callable[[Any], str],
    label: str,
    action_id: str,
    *,
    strict: bool = False,
    value: Callable[[int], str] = str,
    offers: Callable[[Any], bool] | None = None,
) -> dict[str, Any]:
    """Candidates (or the nearest names), each with a button acting on its own id; with
    ``offers``, only the items it accepts get one (the others say why not)."""
    query = esc(found.query)
    listing = "campaigns" if what == "campaign" else "lists"
    if found.candidates:
        why = (
            f"`{action}` runs at once, so it acts on a name only when exactly one {what} "
            "is called that word for word. "
            if strict
            else ""
        )
        intro = (
            f"{why}{len(found.candidates)}{'+' if found.more else ''} {what}s match “{query}”. "
            f"Nothing was done: choose one."
        )
        items = found.candidates
    elif found.nearest:
        intro = f"No {what} is called “{query}”. Nothing was done. The nearest names:"
        items = found.nearest
    else:
        return message(
            f":mag: No {what} is called “{query}”. Nothing was done. "
            f"See `/dialer {listing}` for them all."
        )
    blocks: list[Block] = [header(f"Which {what}?"), section(f":mag: {intro}")]
    for item in items:
        if offers is not None and not offers(item):
            blocks.append(section(f"{line(item)}\n_{action} does not apply in this state._"))
            continue
        blocks.append(section(line(item)))
        blocks.append(
            actions(
                button(f"{label} #{item.id}", action_id, value(item.id)), block_id=f"pick:{item.id}"
            )
        )
    if found.more:
        blocks.append(context("More match: type more of the name to narrow it down."))
    return message(f"Which {what} did you mean by “{query}”? Nothing was done.", blocks)
