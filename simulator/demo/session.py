"""`dialer-bot demo`: the bot in a terminal, with Slack and the dialer simulated in-process.

Each line the user types becomes the signed request Slack would send and goes through the
same Bolt app and listeners as Slack traffic; what the bot sends back to "Slack" lands in
the in-process stand-in (simulator/slack_standin.py) and is printed as readable text.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.find import positive_int
from simulator.demo import payloads, sim_file
from simulator.demo.forms import CANCEL, ModalButton, ModalConsole, bolt_json
from simulator.demo.render import (
    confirm_question,
)
from simulator.demo.screen import ConsoleScreen, Pressable, Shown
from simulator.demo.source import Out, ScriptEnded, ScriptInput, TerminalInput
from simulator.slack_standin import ConsoleSlack

log = logging.getLogger(__name__)

USER_ID, USER_NAME = "UDEMOALICE", "alice"
ADMIN_ID, ADMIN_NAME = "UDEMODANA", "dana"
OTHER_ID, OTHER_NAME = "UDEMOBOB", "bob"
CHANNEL_ID, CHANNEL_NAME = "CDEMOGENERAL", "general"
NOTIFY_ID, NOTIFY_NAME = "CDEMONOTIFY", "dialer-ops"
TEAM_ID, TEAM_DOMAIN = "TDEMO", "demo"
DEMO_USERNAME, DEMO_PASSWORD = "demo@example.com", "demo"
SETTLE_TIMEOUT_S = 60.0
BUTTONS_LISTED = 12  # the newest, when a number matches none
WAIT_DEFAULT_S, WAIT_MAX_S = 60, 600
WATCH_INTERVAL_S = 3600.0


# ---------------------------------------------------------------------------- the session


class DemoSession(ConsoleScreen, ModalConsole):
    """The simulator, the Slack stand-in and the bot, plus the console that drives them."""

    def __init__(self, out: Out, role: str) -> None:
        self.out = out
        self.role = role
        self.who = payloads.Who(USER_ID, USER_NAME, TEAM_ID, TEAM_DOMAIN, CHANNEL_ID, CHANNEL_NAME)
        self._secret = secrets.token_hex(16)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._inputs: ScriptInput | TerminalInput | None = None
        self._seen = 0
        self._asked_top = False
        self.events_sent = 0
        self._shown: dict[int, Shown] = {}
        self._by_ts: dict[tuple[str, str], int] = {}
        self._shown_seq = 0
        self._next_button = 1  # never reused: see simulator/demo/screen.py
        self._sim_file: Path | None = None  # with --db: the simulator's data is kept here
        self._keep_note: str | None = None
        self.buttons: dict[int, Pressable] = {}
        self.modals: list[str] = []  # open view ids, the top one last
        self._forms = {}
        self.sim: Any = None
        self.slack: ConsoleSlack
        self.services: Any = None
        self.app: Any = None

    # ------------------------------------------------------------------ start / stop

    @classmethod
    async def start(
        cls,
        *,
        db_path: str | None = None,
        role: str = "admin",
        out: Out = print,
        dialect: str = "guide",
    ) -> DemoSession:
        from bot.app import build_app, build_services, startup
        from bot.config import load_settings
        from simulator.server import SimulatorConfig, start_simulator

        self = cls(out, role)
        if db_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dialer-bot-demo-")
            db_path = os.path.join(self._tmp.name, "demo.db")
        else:
            self._sim_file = sim_file.path_for(db_path)
        self.sim = await start_simulator(
            SimulatorConfig(
                host="127.0.0.1",
                port=0,
                username=DEMO_USERNAME,
                password=DEMO_PASSWORD,
                token_lifetime=3000,
                seed=True,
                dialect=dialect,
            )
        )
        if self._sim_file is not None:
            self._keep_note = self._load_sim_state(self._sim_file, Path(db_path))
        bot_token = "xoxb-demo-" + secrets.token_hex(12)
        self.slack = await ConsoleSlack(bot_token, team_id=TEAM_ID).start()
        self.slack.users.update({USER_ID: USER_NAME, ADMIN_ID: ADMIN_NAME, OTHER_ID: OTHER_NAME})
        self.slack.channels.update({CHANNEL_ID: CHANNEL_NAME, NOTIFY_ID: NOTIFY_NAME})
        settings = load_settings(
            _env_file=None,
            slack_bot_token=bot_token,
            slack_signing_secret=self._secret,
            slack_api_url=self.slack.api_url,
            dialer_api_url=self.sim.url,
            dialer_auth_url=self.sim.auth_url,
            dialer_username=DEMO_USERNAME,
            dialer_password=DEMO_PASSWORD,
            dialer_token=None,
            database_path=db_path,
            notify_channel=NOTIFY_ID,
            dialer_admins=f"{USER_ID},{ADMIN_ID}" if role == "admin" else ADMIN_ID,
            # The watcher's first poll is awaited below; later ones come from `dialer …`.
            dialer_watch_interval=WATCH_INTERVAL_S,
        )
        self.services = build_services(settings)
        if role != "admin":
            grants = self.services.store.grants
            await self.services.store.run(grants.grant, USER_ID, role, None, ADMIN_ID)
        self.app = build_app(self.services)
        await startup(self.services)  # with --db: what a previous run left pending is shown
        await self.services.watcher.wait_success(SETTLE_TIMEOUT_S)  # the baseline (or catch-up)
        return self

    def _load_sim_state(self, path: Path, db: Path) -> str | None:
        """The simulator's data of the last run with this --db (read before the bot opens the
        database, so a database without it is an old one); a note for the banner."""
        if not path.exists():
            if db.exists():
                return (
                    f"(no simulator data next to the database: the dialer starts from its "
                    f"demo data, so older history may name campaigns it does not have; "
                    f"it is kept in {path} from now on)"
                )
            return None
        try:
            sim_file.load(path, self.sim.state)
        except ValueError as exc:
            return f"(could not read {path}: {exc}; the dialer starts from its demo data)"
        return f"(the dialer's campaigns and call lists are those of the last run, from {path})"

    async def close(self) -> None:
        from bot.app import shutdown

        try:
            if self.services is not None:
                await shutdown(self.services)
        finally:
            if getattr(self, "slack", None) is not None:
                await self.slack.stop()
            if self.sim is not None and self._sim_file is not None:
                try:
                    sim_file.save(self._sim_file, self.sim.state)
                except OSError as exc:
                    self.out(f"(could not keep the dialer's data in {self._sim_file}: {exc})")
            if self.sim is not None:
                await self.sim.stop()
            if self._tmp is not None:
                self._tmp.cleanup()

    @property
    def prompt(self) -> str:
        if self.who.channel_id == CHANNEL_ID:
            return f"{self.who.user_name}> "
        return f"{self.who.user_name} in #{self.who.channel_name}> "

    def banner(self) -> list[str]:
        return [
            "dialer-bot demo: Slack is this terminal, the dialer is the built-in simulator.",
            f"You are @{USER_NAME} ({self.role}) in #{CHANNEL_NAME}; "
            f"notifications go to #{NOTIFY_NAME}.",
            f"Also here: @{ADMIN_NAME} (admin) and @{OTHER_NAME} (no role); "
            f"'as {ADMIN_NAME}' types as her, 'as {USER_NAME}' back; "
            f"':channel #{NOTIFY_NAME}' types there.",
            "Type /dialer help, a button's number to press it, help for the console, or quit.",
        ] + ([self._keep_note] if self._keep_note else [])

    # ------------------------------------------------------------------ the loop

    async def run(self, inputs: ScriptInput | TerminalInput) -> int:
        """Read top-level lines until the input ends or `quit`; 1 if it ended inside a form."""
        self._inputs = inputs
        while True:
            try:
                if self._asked_top:
                    self.out("")
                self._asked_top = True
                line = await inputs.ask(self.prompt, top=True)
                if line is None:
                    return 0
                line = line.strip()
                if line in ("quit", "exit"):
                    return 0
                await self.handle(line)
            except ScriptEnded as exc:
                print(f"dialer-bot demo: {exc}", file=sys.stderr)
                return 1

    async def handle(self, line: str) -> None:
        if not line:
            await self.refresh()  # Enter alone: show what the bot sent meanwhile
            return
        if line.startswith("#"):
            return
        if line == "wait" or line.startswith("wait "):
            await self.wait(line.removeprefix("wait").strip())
            return
        if line == "/dialer" or line.startswith("/dialer "):
            await self.command(line.removeprefix("/dialer").strip())
        elif line.startswith("/"):
            self.out(f"Only /dialer is installed in this demo workspace (not {line.split()[0]}).")
        elif (number := positive_int(line)) is not None:
            await self.press_number(number)
        elif line in ("help", "?"):
            self.out(CONSOLE_HELP)
        elif line.startswith("as "):
            self.switch_user(line[3:].strip().lstrip("@"))
        elif line == ":channel" or line.startswith(":channel "):
            self.switch_channel(line.removeprefix(":channel").strip().lstrip("#"))
        elif line == CANCEL:
            self.out("(no form is open: there is nothing to cancel)")
        elif line == "home":
            await self.open_home()
        elif line == "dialer" or line.startswith("dialer "):
            await self.portal(line.split()[1:])
        elif line == "workflow" or line.startswith("workflow "):
            await self.workflow(line.removeprefix("workflow").strip())
        else:
            self.out("Type a /dialer command (try /dialer help), a button's number, or quit.")
        if self.modals:
            await self._modal_loop()

    def switch_user(self, name: str) -> None:
        """Type as another person of the workspace (e.g. the second person an approval needs)."""
        found = [uid for uid, known in self.slack.users.items() if known == name]
        if not found or found[0] == self.slack.bot_user_id:
            people = ", ".join(f"@{n}" for n in (USER_NAME, ADMIN_NAME, OTHER_NAME))
            self.out(f"No such person here; the people are {people}.")
            return
        self.who = replace(self.who, user_id=found[0], user_name=name)
        # what was only visible to the previous person is not on this person's screen
        self.buttons = {n: p for n, p in self.buttons.items() if p.shown and not p.shown.ephemeral}
        self.out(f"(you are now @{name})")

    def switch_channel(self, name: str) -> None:
        """Type in another channel: commands run there, and replies land there."""
        found = [cid for cid, known in self.slack.channels.items() if known == name]
        if not found:
            channels = ", ".join(f"#{n}" for n in self.slack.channels.values())
            where = f"#{self.who.channel_name}"
            self.out(f"You are typing in {where}. The channels are {channels}: `:channel #name`.")
            return
        self.who = replace(self.who, channel_id=found[0], channel_name=name)
        self.out(f"(you are now typing in #{name})")

    def _escape_mentions(self, text: str) -> str:
        """Slack sends picked @people and #channels as <@U…|name> and <#C…|name>."""

        def user(m: re.Match[str]) -> str:
            ids = [uid for uid, known in self.slack.users.items() if known == m[1]]
            return f"<@{ids[0]}|{m[1]}>" if ids else m[0]

        def channel(m: re.Match[str]) -> str:
            ids = [cid for cid, known in self.slack.channels.items() if known == m[1]]
            return f"<#{ids[0]}|{m[1]}>" if ids else m[0]

        text = re.sub(r"(?<![\w<])@([\w.-]+)", user, text)
        return re.sub(r"(?<![\w<])#([a-z0-9_-]+)", channel, text)

    async def _ask(self, prompt: str) -> str:
        assert self._inputs is not None
        answer = await self._inputs.ask(prompt)
        if answer is None:
            raise ScriptEnded(f"the input ended while the console was asking {prompt.strip()!r}")
        return answer

    # ------------------------------------------------------------------ requests into the bot

    async def _dispatch(self, body: str) -> BoltResponse:
        """Into the Bolt app exactly as an HTTP request from Slack, signature check included."""
        request = AsyncBoltRequest(body=body, headers=payloads.signed_headers(self._secret, body))
        response = await self.app.async_dispatch(request)
        if response.status != 200:
            self.out(f"(dialer-bot answered HTTP {response.status}: {response.body[:200]})")
        return response

    async def wait(self, arg: str) -> None:
        """`wait [seconds]`: until the bot sends something (a scheduled command's result),
        at most that long (default 60 s), then show it."""
        limit = positive_int(arg) if arg else WAIT_DEFAULT_S
        if limit is None or limit > WAIT_MAX_S:
            self.out(f"Usage: wait [seconds], at most {WAIT_MAX_S}, e.g. wait 15")
            return
        await self.refresh()
        seen = len(self.slack.calls)
        if not await self.slack.wait_for_calls(seen, limit):
            self.out(f"(nothing from dialer-bot in {limit} s)")
        await self.refresh()

    async def refresh(self) -> None:
        """Show what the bot sent since the last input (for work not started by the console)."""
        await self._settle()
        self._present([])
        if self.modals:
            await self._modal_loop()

    async def _settle(self) -> None:
        """Wait for what the bot does after its ack: background tasks, then notifications."""
        if not await self.services.tasks.drain(SETTLE_TIMEOUT_S):
            self.out(f"(dialer-bot is still busy after {SETTLE_TIMEOUT_S:.0f} s)")
        try:
            await self.services.notifier.wait_idle(SETTLE_TIMEOUT_S)
        except TimeoutError:
            self.out("(notifications are still being delivered)")

    async def command(self, text: str) -> None:
        response_url = self.slack.new_response_url(kind="command", channel=self.who.channel_id)
        body = payloads.slash_command(
            self._escape_mentions(text),
            self.who,
            response_url=response_url,
            trigger_id=self.slack.new_trigger_id(),
        )
        response = await self._dispatch(body)
        ack = bolt_json(response)
        await self._settle()
        ephemeral = ack.get("response_type") != "in_channel"
        shown = [self._new_shown(ack, self.who.channel_id, ephemeral)] if _is_message(ack) else []
        self._present(shown)

    async def press_number(self, number: int) -> None:
        target = self.buttons.get(number)
        if target is None:
            numbers = sorted(self.buttons)
            shown = "  ".join(f"[{n}]" for n in numbers[-BUTTONS_LISTED:]) or "none"
            if len(numbers) > BUTTONS_LISTED:
                shown = f"{shown} and {len(numbers) - BUTTONS_LISTED} older"
            self.out(f"No button [{number}] on screen (buttons now: {shown}).")
            return
        await self.press(target)

    async def press(self, target: Pressable | ModalButton) -> None:
        b = target.button
        if b.confirm and not await self._confirmed(b.confirm):
            self.out("(not pressed)")
            return
        if b.url:
            self.out(f"(opens {b.url} in a browser)")
        action = payloads.button_action(
            action_id=b.action_id,
            block_id=b.block_id or "",
            element=b.element,
            value=b.value,
            selected_option=b.selected_option,
        )
        trigger = self.slack.new_trigger_id()
        if target.shown is None:
            view = self._view_with_state(self.modals[-1])
            body = payloads.block_actions(action, self.who, trigger_id=trigger, view=view)
        else:
            s = target.shown
            body = payloads.block_actions(
                action,
                self.who,
                trigger_id=trigger,
                message=s.body,
                message_ts=s.ts or _fake_ts(s.id),
                channel_id=s.channel_id,
                channel_name=self._channel_name(s.channel_id),
                ephemeral=s.ephemeral,
                response_url=self.slack.new_response_url(kind="button", shown=s.id),
            )
        await self._dispatch(body)
        await self._settle()
        self._present([])

    async def _confirmed(self, confirm: dict[str, Any]) -> bool:
        question = confirm_question(confirm, self.names)
        while True:
            answer = (await self._ask(question)).strip().lower()
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no", CANCEL):
                return False
            self.out("  answer y or n")

    # ------------------------------------------------------------------ outside Slack's messages

    async def open_home(self) -> None:
        """`home`: the Home tab opened, as Slack reports it (an app_home_opened event)."""
        self.events_sent += 1
        body = payloads.app_home_opened(self.who, f"EvDEMO{self.events_sent:06d}")
        signed = payloads.signed_headers(self._secret, body)
        headers = {**signed, "content-type": "application/json"}
        await self.app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
        await self.refresh()

    async def portal(self, args: list[str]) -> None:
        """`dialer <id> <state>`: a supervisor in the Voipex portal, i.e. the simulator's
        PUT /_sim/campaigns/<id>/state (a change made outside Slack), then one watcher poll,
        so its notification shows at once."""
        campaign_id = positive_int(args[0]) if len(args) == 2 else None
        if campaign_id is None:
            self.out("Usage: dialer <campaign id> <state>, e.g. dialer 1 paused (as the portal).")
            return
        async with httpx.AsyncClient() as client:
            resp = await client.put(
                f"{self.sim.url}/_sim/campaigns/{campaign_id}/state", json={"state": args[1]}
            )
        if resp.status_code != 200:
            self.out(f"(the portal answered {resp.status_code}: {resp.text[:200]})")
            return
        self.out(f"(in the Voipex portal, campaign #{campaign_id} is now {args[1]})")
        await self.services.watcher.poll_once()
        await self.refresh()

    async def workflow(self, text: str) -> None:
        """`workflow <step> [<campaign>] [because <reason>] as <name>`: a Workflow Builder
        workflow reaching one of the bot's steps, run by <name> in the current channel (the
        function_executed event Slack sends); shows the step's outputs or its error."""
        words = text.split()
        if len(words) < 3 or words[-2] != "as" or words[0] not in WORKFLOW_STEPS:
            self.out(WORKFLOW_USAGE)
            return
        step, name = WORKFLOW_STEPS[words[0]], words[-1].lstrip("@")
        users = [uid for uid, known in self.slack.users.items() if known == name]
        if not users:
            self.out(f"No such person here. {WORKFLOW_USAGE}")
            return
        rest = " ".join(words[1:-2])
        campaign, _, reason = rest.partition(" because ")
        if rest.startswith("because "):
            campaign, reason = "", rest.removeprefix("because ")
        inputs: dict[str, Any] = {"user": users[0], "channel": self.who.channel_id}
        if step not in ("pause_all_campaigns",):
            inputs["campaign"] = campaign.strip().strip('"')
        if reason.strip():
            inputs["reason"] = reason.strip()
        self.events_sent += 1
        run_id = f"FxDEMO{self.events_sent:06d}"
        body = payloads.function_executed(
            step,
            inputs,
            team_id=TEAM_ID,
            execution_id=run_id,
            workflow_id=f"WxDEMO{self.events_sent:06d}",
        )
        signed = payloads.signed_headers(self._secret, body)
        headers = {**signed, "content-type": "application/json"}
        await self.app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
        await self._settle()
        done = [
            c
            for c in self.slack.calls
            if c.method.startswith("functions.") and c.args.get("function_execution_id") == run_id
        ]
        if not done:
            self.out(f"(workflow step {step}: no answer from dialer-bot)")
        elif done[-1].method == "functions.completeSuccess":
            outputs = done[-1].args.get("outputs") or {}
            shown = ", ".join(f"{k} = {v}" for k, v in outputs.items())
            self.out(f"(workflow step {step} completed: {shown})")
        else:
            self.out(f"(workflow step {step} failed: {done[-1].args.get('error')})")
        await self.refresh()


# The console's short names for the bot's Workflow Builder steps (manifest.yml `functions`).
WORKFLOW_STEPS = {
    "pause": "pause_campaign",
    "unpause": "unpause_campaign",
    "start": "start_campaign",
    "pause-all": "pause_all_campaigns",
    "status": "campaign_status",
}
WORKFLOW_USAGE = (
    "Usage: workflow pause|unpause|start|status <id|name> [because <reason>] as <name>, "
    "or workflow pause-all [because <reason>] as <name>; e.g. workflow start 1 as dana"
)


CONSOLE_HELP = """\
Console help
  /dialer …     a slash command, as typed in Slack (try /dialer help)
  <number>      press the button shown with that number
  as <name>     type as another person here (dana is an admin, bob has no role)
  :channel #c   type in channel #c (#general or #dialer-ops); replies land there
  wait [s]      wait until the bot sends something (e.g. a scheduled command ran), at most
                s seconds (60); Enter alone shows what it sent meanwhile
  home          open the bot's App Home tab
  dialer <id> <state>   act as the Voipex portal: change a campaign's state outside Slack
  workflow <step> … as <name>   a workflow runs one of the bot's steps (pause, unpause,
                start, status <id|name>; pause-all) as that person, in this channel
  help          this text;  quit  leaves the demo (so does Ctrl-D)
Each button keeps its number while its message is on screen; numbers are never reused.
In forms: Enter takes the [default]; '..' takes the defaults of all remaining inputs;
'-' clears an optional answer; options are chosen
by number or value (several: comma-separated); multi-line answers end with a '.' line;
a file input takes the path of a local file; :cancel abandons the form (nothing is sent)."""


def _is_message(body: dict[str, Any]) -> bool:
    return bool(body.get("text") or body.get("blocks") or body.get("attachments"))


def _fake_ts(n: int) -> str:
    return f"1700000000.{n:06d}"
