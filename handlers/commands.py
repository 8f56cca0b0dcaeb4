"""The /dialer router and its help, from one table: each subcommand's handler, role (from
bot/access.py's one map), one-line help and example.

handlers/grammar.py reads the words before the ack (no I/O, so a usage error goes back
in the ack); the handler runs after it, in a tracked background task, once the role is
checked and a campaign given by name is resolved into its id.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

from bot.access import REQUIRED_ROLE, role_allows
from bot.find import Ref
from handlers import grammar
from handlers.access import commands as access_commands
from handlers.blocks import context as context_block
from handlers.blocks import esc, header, message, section
from handlers.call_lists import listeners as call_list_form
from handlers.call_lists import listeners as call_lists
from handlers.campaign_form import listeners as campaign_form
from handlers.campaigns import listeners as campaigns
from handlers.campaigns.choose import campaign_id_or_ask
from handlers.control import emergency
from handlers.control import listeners as control
from handlers.dnc import listeners as dnc
from handlers.grammar import Command, Control, History, Listing, split_words
from handlers.guard import authorize
from handlers.history import listeners as history
from handlers.history.query import HistoryQuery
from handlers.request import Request
from handlers.schedules import listeners as schedules
from handlers.subscriptions import listeners as subscriptions
from store import StorageError

__all__ = ["SUBCOMMANDS", "UsageError", "handle_dialer", "help_message", "parse", "split_words"]

log = logging.getLogger(__name__)


class UsageError(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


Runner = Callable[[Request, Any], Awaitable[None]]


@dataclass(frozen=True)
class Subcommand:
    """One row of the table: what runs, and what help and usage errors say about it."""

    name: str
    args: str
    summary: str
    example: str
    run: Runner | None  # None: help, answered in the ack
    doing: str  # for error sentences: "Could not <doing>: …"

    @property
    def usage(self) -> str:
        return f"/dialer {self.name}{' ' + self.args if self.args else ''}"

    @property
    def role(self) -> str | None:
        """The least role that runs it (None: anyone); bot/access.py holds the one map."""
        return REQUIRED_ROLE.get(self.name, "admin")


# --- handlers: each reads its command's typed fields -------------------------------------


async def _run_control(req: Request, cmd: Control) -> None:
    if cmd.several is not None and cmd.several.every_running:
        await emergency.open_confirmation(req)
    elif cmd.several is not None:
        await emergency.pause_many(req, list(cmd.several.ids), list(cmd.several.names))
    elif cmd.when is not None:
        await schedules.schedule_command(req, cmd.scheduled())
    else:
        await control.control_command(req, cmd.campaign_id, cmd.name, reason=cmd.reason)


def _on_campaign(run: Callable[[Request, int], Awaitable[None]]) -> Runner:
    """A handler of one campaign's id (resolved by run_subcommand)."""

    async def on_id(req: Request, cmd: Command) -> None:
        await run(req, cmd.campaign_id)

    return on_id


def _on_listing(run: Callable[[Request, Any], Awaitable[None]]) -> Runner:
    async def on_filter(req: Request, cmd: Listing) -> None:
        await run(req, (cmd.wanted, cmd.page))

    return on_filter


def _bare(run: Callable[[Request, Any], Awaitable[None]]) -> Runner:
    """A handler that takes nothing but the request."""

    async def on_nothing(req: Request, cmd: Command) -> None:
        await run(req, None)

    return on_nothing


async def _show_history(req: Request, cmd: History) -> None:
    await history.show_history(req, HistoryQuery.of(cmd))


async def _show_call_list(req: Request, cmd: grammar.ShowCallList) -> None:
    await call_lists.show_call_list(req, cmd.call_list)


async def _subscribe(req: Request, cmd: grammar.Subscribe) -> None:
    await subscriptions.subscribe(req, cmd.mode)


async def _cancel_schedule(req: Request, cmd: grammar.CancelSchedule) -> None:
    await schedules.schedule_subcommand(req, cmd.number)


_ONE_CAMPAIGN_LATER = "<id|name> | <id> [at … | in …]"

SUBCOMMANDS: dict[str, Subcommand] = {
    s.name: s
    for s in [
        Subcommand("help", "", "this list", "/dialer help", None, "show help"),
        Subcommand(
            "campaigns",
            "[running|paused|stopped] [<text>] [page]",
            "campaigns with their state and buttons, optionally only some states or names",
            "/dialer campaigns running brno",
            _on_listing(campaigns.list_campaigns),
            "list campaigns",
        ),
        Subcommand(
            "campaign",
            "<id|name>",
            "one campaign in full, with its last audit entries",
            "/dialer campaign brno",
            _on_campaign(campaigns.show_campaign),
            "show the campaign",
        ),
        Subcommand(
            "ivr",
            "",
            "IVR applications",
            "/dialer ivr",
            _bare(campaigns.list_ivr),
            "list IVR applications",
        ),
        Subcommand(
            "lists",
            "[running|paused|stopped] [<text>]",
            "call lists with their number counts (a state: the lists its campaigns use)",
            "/dialer lists prague",
            _on_listing(call_lists.list_call_lists),
            "list call lists",
        ),
        Subcommand(
            "upload",
            "",
            "create a call list from pasted numbers or a CSV file",
            "/dialer upload",
            _bare(call_list_form.open_upload_modal),
            "open the call-list form",
        ),
        Subcommand(
            "list",
            "<id|name> | new",
            "one call list: its campaigns and first entries (`new`: same as `/dialer upload`)",
            "/dialer list prague",
            _show_call_list,
            "show the call list",
        ),
        Subcommand(
            "new",
            "",
            "create a campaign in a form",
            "/dialer new",
            _bare(campaign_form.open_new),
            "open the campaign form",
        ),
        Subcommand(
            "edit",
            "<id|name>",
            "change a campaign in a form",
            "/dialer edit 12",
            _on_campaign(campaign_form.open_edit),
            "open the campaign form",
        ),
        Subcommand(
            "clone",
            "<id|name>",
            'a new campaign in the form, filled from an existing one and named "… (copy)"',
            "/dialer clone spring",
            _on_campaign(campaign_form.open_clone),
            "open the campaign form",
        ),
        Subcommand(
            "start",
            "<id|name> [because <reason>] | <id> [at HH:MM | at YYYY-MM-DD HH:MM | "
            "tomorrow HH:MM | in 30m]",
            "start a stopped campaign, now or at a set time (asks to confirm); `because`: "
            "an admin's reason to start outside enforced calling hours",
            "/dialer start 12 at 08:00",
            _run_control,
            "start the campaign",
        ),
        Subcommand(
            "pause",
            "<id|name> [because <reason>] | <id> [<id> …] | all | <id> at HH:MM",
            "pause campaigns at once, with an optional reason (a name must match "
            "one word for word); `all` pauses every running one after one confirmation",
            "/dialer pause all",
            _run_control,
            "pause the campaign",
        ),
        Subcommand(
            "unpause",
            "<id|name> [because <reason>] | <id> [at … | in …]",
            "resume a paused campaign, now or later (asks to confirm); `because`: "
            "an admin's reason to unpause outside enforced calling hours",
            "/dialer unpause 12 in 30m",
            _run_control,
            "unpause the campaign",
        ),
        Subcommand(
            "reload",
            _ONE_CAMPAIGN_LATER,
            "reload a running or paused campaign (asks to confirm)",
            "/dialer reload 12",
            _run_control,
            "reload the campaign",
        ),
        Subcommand(
            "remove",
            "<id|name>",
            "remove a campaign for good (asks to confirm)",
            "/dialer remove 12",
            _run_control,
            "remove the campaign",
        ),
        Subcommand(
            "schedules",
            "",
            "pending scheduled commands, with Cancel buttons",
            "/dialer schedules",
            _bare(schedules.list_schedules),
            "list the schedules",
        ),
        Subcommand(
            "schedule",
            "cancel <n>",
            "cancel a scheduled command (your own, or any as an admin)",
            "/dialer schedule cancel 3",
            _cancel_schedule,
            "cancel the schedule",
        ),
        Subcommand(
            "history",
            "[<n>] [#<id>|campaign <id|name>] [@user] [failed|denied]",
            "the last n audit entries, newest first (default 10, at most 50), "
            "of one campaign (`#12`, `campaign 12`, `campaign spring`), person or outcome",
            "/dialer history #12 20",
            _show_history,
            "read the audit log",
        ),
        Subcommand(
            "subscribe",
            "[threaded|flat]",
            "send campaign notifications to this channel, one thread per campaign a day "
            "(threaded, the default) or each as its own message (flat)",
            "/dialer subscribe flat",
            _subscribe,
            "subscribe",
        ),
        Subcommand(
            "unsubscribe",
            "",
            "stop notifications to this channel",
            "/dialer unsubscribe",
            _bare(subscriptions.unsubscribe),
            "unsubscribe",
        ),
        Subcommand(
            "subscriptions",
            "",
            "channels that receive notifications",
            "/dialer subscriptions",
            _bare(subscriptions.list_subscriptions),
            "list subscriptions",
        ),
        Subcommand(
            "access",
            "grant @user <role> [#channel …] | revoke @user [<role>] [#channel …] | list",
            "who may do what: roles viewer, operator, admin, optionally per channel (admins)",
            "/dialer access grant @alice operator #ops",
            access_commands.run,
            "manage access",
        ),
        Subcommand(
            "dnc",
            "[add <number> … [because <reason>] | remove <number> [because <reason>] | "
            "check <number> | upload | export]",
            "the do-not-call list: its size and latest changes; add numbers (operators), "
            "check one, upload a file, remove or export (admins); call lists leave them out",
            "/dialer dnc add +420601123456 because asked not to be called",
            dnc.run,
            "change the do-not-call list",
        ),
    ]
}
assert set(SUBCOMMANDS) == set(grammar.READERS), "every subcommand is routed and read"


def parse(text: str) -> tuple[Subcommand, Command]:
    """The subcommand to run and its command; UsageError with what to type instead."""
    words = split_words(text)
    if not words:
        return SUBCOMMANDS["help"], Command(name="help")
    name, args = words[0].lower(), words[1:]
    sub = SUBCOMMANDS.get(name)
    if sub is None:
        guess = difflib.get_close_matches(name, list(SUBCOMMANDS), n=1, cutoff=0.5)
        if guess:
            near = SUBCOMMANDS[guess[0]]
            raise UsageError(
                f"Unknown subcommand `{esc(name)}`. Did you mean `{near.name}`?\n"
                f"Usage: `{near.usage}` — {near.summary}. Example: `{near.example}`"
            )
        raise UsageError(
            f"Unknown subcommand `{esc(name)}`. Try `/dialer help` for the list of subcommands."
        )
    try:
        cmd = grammar.read(name, args)
    except ValueError as exc:
        raise UsageError(
            f"`/dialer {sub.name}` {exc}.\nUsage: `{sub.usage}` — {sub.summary}. "
            f"Example: `{sub.example}`"
        ) from None
    return SUBCOMMANDS[cmd.name], cmd  # `list new` reads as `upload`


def help_message(role: str | None = None, *, role_known: bool = True) -> dict[str, Any]:
    """Every subcommand; those the reader's role here does not allow say which role they need.

    ``role_known`` False: the role could not be read in time (the store is busy), so
    nothing is marked rather than everything."""
    lines = []
    for s in SUBCOMMANDS.values():
        allowed = role_allows(role, s.name) or not role_known
        mark = "" if allowed else f" 🔒 _needs {s.role}_"
        lines.append(f"`{s.usage}` — {s.summary}. _e.g._ `{s.example}`{mark}")
    chunks, chunk = [], ""
    for line in lines:  # a section holds at most 3,000 characters
        if len(chunk) + len(line) + 1 > 2900:
            chunks.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    chunks.append(section(chunk))
    yours = f"*{role}*" if role else "none (ask an admin for access)"
    if role_known:
        about_role = f"Your role here: {yours}. 🔒 marks what needs a higher role."
    else:
        about_role = (
            "Your role here could not be read just now (the bot's storage is busy); "
            "each command says so if it needs a role you do not have."
        )
    return message(
        "dialer-bot commands",
        [
            header("dialer-bot commands"),
            section(about_role),
            *chunks,
            context_block(
                "Control commands are recorded in the audit log with who, where and when."
            ),
        ],
    )


async def handle_dialer(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    try:
        sub, cmd = parse(body.get("text") or "")
    except UsageError as exc:
        await ack(response_type="ephemeral", **message(exc.text))
        return
    req = Request.from_bolt(context, body, respond)
    if sub.run is None:  # help: a local SQLite read (off the loop, never behind a write)
        await ack(response_type="ephemeral", **await _help_for(req))
        return
    await ack()
    req.spawn(run_subcommand(req, sub, cmd), sub.doing)


# The help's role lookup has this long before the help goes without it: the ack must
# leave within Slack's 3 s whatever the store is doing.
HELP_ROLE_BUDGET_S = 1.0


async def _help_for(req: Request) -> dict[str, Any]:
    try:
        async with asyncio.timeout(HELP_ROLE_BUDGET_S):
            return help_message(await req.role_here())
    except (TimeoutError, StorageError) as exc:
        log.warning("help without the role: %s", exc or "the role lookup took too long")
        return help_message(role_known=False)


async def run_subcommand(req: Request, sub: Subcommand, cmd: Command) -> None:
    """Runs after the ack, inside req.spawn: failures become one sentence for the user.

    A campaign given by name is resolved here, once authorized, into its id (or the person
    is asked to choose), so every subcommand that takes an id takes a name too.
    """
    ref = cmd.campaign
    if not await authorize(req, cmd.name, campaign_id=ref.id if ref else None):
        return
    assert sub.run is not None
    if ref is not None and ref.id is None:
        if cmd.when is not None:
            # A scheduled command is confirmed (name and id shown) before anything is stored,
            # so it follows the usual one-match rule; the candidates' buttons schedule.
            button = schedules.pick_button(cmd.scheduled())
            resolved = await campaign_id_or_ask(req, ref, cmd.name, button=button)
        else:
            word_for_word = cmd.name in control.RUNS_AT_ONCE
            resolved = await campaign_id_or_ask(req, ref, cmd.name, word_for_word=word_for_word)
        if resolved is None:
            return
        cmd = replace(cmd, campaign=Ref(id=resolved))
    await sub.run(req, cmd)
