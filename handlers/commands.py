"""The /dialer router: one table maps each subcommand to its parser, role action and handler.

Parsing happens before the ack (it needs no I/O, so usage errors go back in the ack);
everything else runs after it, in a tracked background task.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

from bot.access import REQUIRED_ROLE, role_allows
from bot.find import Ref
from handlers.access import commands as access_commands
from handlers.blocks import context as context_block
from handlers.blocks import esc, header, message, section
from handlers.call_lists import listeners as call_list_form
from handlers.call_lists import listeners as call_lists
from handlers.campaign_form import listeners as campaign_form
from handlers.campaigns import listeners as campaigns
from handlers.campaigns.choose import campaign_id_or_ask
from handlers.command_args import (
    ListNew,
    WithReason,
    campaign_ref,
    filters,
    id_because,
    list_arg,
    no_args,
    schedule_cancel,
    split_words,
    subscribe_mode,
)
from handlers.control import emergency
from handlers.control import listeners as control
from handlers.guard import authorize
from handlers.history import listeners as history
from handlers.request import Request
from handlers.schedules import listeners as schedules
from handlers.schedules.grammar import PauseAllRequest, PauseMany, Scheduled, control_parser
from handlers.subscriptions import listeners as subscriptions

log = logging.getLogger(__name__)


class UsageError(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


Runner = Callable[[Request, Any], Awaitable[None]]


@dataclass(frozen=True)
class Subcommand:
    name: str
    args: str
    summary: str
    example: str
    parse: Callable[[list[str]], Any]
    run: Runner | None
    doing: str  # for error sentences: "Could not <doing>: …"

    @property
    def usage(self) -> str:
        return f"/dialer {self.name}{' ' + self.args if self.args else ''}"


async def _run_list(req: Request, parsed: ListNew | Ref) -> None:
    if isinstance(parsed, ListNew):
        await call_list_form.open_upload_modal(req, None)
    else:
        await call_lists.show_call_list(req, parsed)


def _control(command: str) -> Runner:
    async def run(req: Request, parsed: Any) -> None:
        if isinstance(parsed, WithReason):
            await control.control_command(req, parsed.campaign_id, command, reason=parsed.reason)
        elif isinstance(parsed, Scheduled):
            await schedules.schedule_command(req, parsed)
        elif isinstance(parsed, PauseAllRequest):
            await emergency.open_confirmation(req)
        elif isinstance(parsed, PauseMany):
            await emergency.pause_many(req, list(parsed.ids), list(parsed.names))
        else:
            await control.control_command(req, parsed, command)

    return run


SUBCOMMANDS: dict[str, Subcommand] = {
    s.name: s
    for s in [
        Subcommand("help", "", "this list", "/dialer help", no_args, None, "show help"),
        Subcommand(
            "campaigns",
            "[running|paused|stopped] [<text>] [page]",
            "campaigns with their state and buttons, optionally only some states or names",
            "/dialer campaigns running brno",
            filters,
            campaigns.list_campaigns,
            "list campaigns",
        ),
        Subcommand(
            "campaign",
            "<id|name>",
            "one campaign in full, with its last audit entries",
            "/dialer campaign brno",
            campaign_ref,
            campaigns.show_campaign,
            "show the campaign",
        ),
        Subcommand(
            "ivr",
            "",
            "IVR applications",
            "/dialer ivr",
            no_args,
            campaigns.list_ivr,
            "list IVR applications",
        ),
        Subcommand(
            "lists",
            "[running|paused|stopped] [<text>]",
            "call lists with their number counts (a state: the lists its campaigns use)",
            "/dialer lists prague",
            filters,
            call_lists.list_call_lists,
            "list call lists",
        ),
        Subcommand(
            "upload",
            "",
            "create a call list from pasted numbers or a CSV file",
            "/dialer upload",
            no_args,
            call_list_form.open_upload_modal,
            "open the call-list form",
        ),
        Subcommand(
            "list",
            "<id|name> | new",
            "one call list: its campaigns and first entries (`new`: same as `/dialer upload`)",
            "/dialer list prague",
            list_arg,
            _run_list,
            "show the call list",
        ),
        Subcommand(
            "new",
            "",
            "create a campaign in a form",
            "/dialer new",
            no_args,
            campaign_form.open_new,
            "open the campaign form",
        ),
        Subcommand(
            "edit",
            "<id|name>",
            "change a campaign in a form",
            "/dialer edit 12",
            campaign_ref,
            campaign_form.open_edit,
            "open the campaign form",
        ),
        Subcommand(
            "clone",
            "<id|name>",
            'a new campaign in the form, filled from an existing one and named "… (copy)"',
            "/dialer clone spring",
            campaign_ref,
            campaign_form.open_clone,
            "open the campaign form",
        ),
        *[
            Subcommand(
                cmd,
                args,
                summary,
                example,
                control_parser(cmd, id_because if cmd == "pause" else campaign_ref),
                _control(cmd),
                f"{cmd} the campaign",
            )
            for cmd, args, summary, example in [
                (
                    "start",
                    "<id|name> | <id> [at HH:MM | at YYYY-MM-DD HH:MM | tomorrow HH:MM | in 30m]",
                    "start a stopped campaign, now or at a set time (asks to confirm)",
                    "/dialer start 12 at 08:00",
                ),
                (
                    "pause",
                    "<id|name> [because <reason>] | <id> [<id> …] | all | <id> at HH:MM",
                    "pause campaigns at once, with an optional reason (a name must match "
                    "one word for word); `all` pauses every running one after one confirmation",
                    "/dialer pause all",
                ),
                (
                    "unpause",
                    "<id|name> | <id> [at … | in …]",
                    "resume a paused campaign, now or later (asks to confirm)",
                    "/dialer unpause 12 in 30m",
                ),
                (
                    "reload",
                    "<id|name> | <id> [at … | in …]",
                    "reload a running or paused campaign (asks to confirm)",
                    "/dialer reload 12",
                ),
                (
                    "remove",
                    "<id|name>",
                    "remove a campaign for good (asks to confirm)",
                    "/dialer remove 12",
                ),
            ]
        ],
        Subcommand(
            "schedules",
            "",
            "pending scheduled commands, with Cancel buttons",
            "/dialer schedules",
            no_args,
            schedules.list_schedules,
            "list the schedules",
        ),
        Subcommand(
            "schedule",
            "cancel <n>",
            "cancel a scheduled command (your own, or any as an admin)",
            "/dialer schedule cancel 3",
            schedule_cancel,
            schedules.schedule_subcommand,
            "cancel the schedule",
        ),
        Subcommand(
            "history",
            "[<n>] [#<id>|campaign <id|name>] [@user] [failed|denied]",
            "the last n audit entries, newest first (default 10, at most 50), "
            "of one campaign (`#12`, `campaign 12`, `campaign spring`), person or outcome",
            "/dialer history #12 20",
            history.parse,
            history.show_history,
            "read the audit log",
        ),
        Subcommand(
            "subscribe",
            "[threaded|flat]",
            "send campaign notifications to this channel, one thread per campaign a day "
            "(threaded, the default) or each as its own message (flat)",
            "/dialer subscribe flat",
            subscribe_mode,
            subscriptions.subscribe,
            "subscribe",
        ),
        Subcommand(
            "unsubscribe",
            "",
            "stop notifications to this channel",
            "/dialer unsubscribe",
            no_args,
            subscriptions.unsubscribe,
            "unsubscribe",
        ),
        Subcommand(
            "subscriptions",
            "",
            "channels that receive notifications",
            "/dialer subscriptions",
            no_args,
            subscriptions.list_subscriptions,
            "list subscriptions",
        ),
        Subcommand(
            "access",
            "grant @user <role> [#channel …] | revoke @user [<role>] [#channel …] | list",
            "who may do what: roles viewer, operator, admin, optionally per channel (admins)",
            "/dialer access grant @alice operator #ops",
            access_commands.parse,
            access_commands.run,
            "manage access",
        ),
    ]
}


def parse(text: str) -> tuple[Subcommand, Any]:
    words = split_words(text)
    if not words:
        return SUBCOMMANDS["help"], None
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
        return sub, sub.parse(args)
    except ValueError as exc:
        raise UsageError(
            f"`/dialer {sub.name}` {exc}.\nUsage: `{sub.usage}` — {sub.summary}. "
            f"Example: `{sub.example}`"
        ) from None


def help_message(role: str | None = None) -> dict[str, Any]:
    """Every subcommand; those the reader's role here does not allow say which role they need."""
    lines = []
    for s in SUBCOMMANDS.values():
        needed = REQUIRED_ROLE.get(s.name, "admin")
        mark = "" if role_allows(role, s.name) else f" 🔒 _needs {needed}_"
        lines.append(f"`{s.usage}` — {s.summary}. _e.g._ `{s.example}`{mark}")
    chunks, chunk = [], ""
    for line in lines:  # a section holds at most 3,000 characters
        if len(chunk) + len(line) + 1 > 2900:
            chunks.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    chunks.append(section(chunk))
    yours = f"*{role}*" if role else "none (ask an admin for access)"
    return message(
        "dialer-bot commands",
        [
            header("dialer-bot commands"),
            section(f"Your role here: {yours}. 🔒 marks what needs a higher role."),
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
        sub, parsed = parse(body.get("text") or "")
    except UsageError as exc:
        await ack(response_type="ephemeral", **message(exc.text))
        return
    req = Request.from_bolt(context, body, respond)
    if sub.run is None:  # help: a local SQLite read (off the loop), then the ack
        await ack(response_type="ephemeral", **help_message(await req.role_here()))
        return
    await ack()
    req.spawn(run_subcommand(req, sub, parsed), sub.doing)


async def run_subcommand(req: Request, sub: Subcommand, parsed: Any) -> None:
    """Runs after the ack, inside req.spawn: failures become one sentence for the user.

    A campaign given by name is resolved here, once authorized, into its id (or the person
    is asked to choose), so every subcommand that takes an id takes a name too.
    """
    action = "upload" if isinstance(parsed, ListNew) else sub.name
    # A Ref names a campaign, except after `list`, where it names a call list.
    campaign_ref = parsed if isinstance(parsed, Ref) and sub.name != "list" else None
    if isinstance(parsed, WithReason | Scheduled) and isinstance(parsed.campaign_id, Ref):
        campaign_ref = parsed.campaign_id
    campaign_id = getattr(parsed, "campaign_id", None)  # e.g. a Scheduled command
    if campaign_ref is not None:
        campaign_id = campaign_ref.id
    if not await authorize(req, action, campaign_id=campaign_id):
        return
    assert sub.run is not None
    if campaign_ref is not None:
        if isinstance(parsed, Scheduled):
            # A scheduled pause is confirmed (name and id shown) before anything is stored,
            # so it follows the usual one-match rule; the candidates' buttons schedule.
            resolved = await campaign_id_or_ask(
                req, campaign_ref, sub.name, button=schedules.pick_button(parsed)
            )
        else:
            resolved = await campaign_id_or_ask(
                req, campaign_ref, sub.name, word_for_word=sub.name in control.RUNS_AT_ONCE
            )
        if resolved is None:
            return
        parsed = (
            replace(parsed, campaign_id=resolved)
            if isinstance(parsed, WithReason | Scheduled)
            else resolved
        )
    await sub.run(req, parsed)
