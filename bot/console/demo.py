"""`dialer-bot demo`: the bot in a terminal, with Slack and the dialer simulated in-process.

Each line the user types becomes the signed request Slack would send and goes through the
same Bolt app and listeners as Slack traffic; what the bot sends back to "Slack" lands in
the in-process stand-in (bot/console/slack.py) and is printed as readable text.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import secrets
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.console import payloads
from bot.console.forms import ModalButton, ModalConsole, bolt_json
from bot.console.render import (
    Button,
    Names,
    confirm_question,
    render_blocks,
    render_message,
    uploaded_file_line,
)
from bot.console.slack import Call, ConsoleSlack
from bot.ids import positive_int

log = logging.getLogger(__name__)

USER_ID, USER_NAME = "UDEMOALICE", "alice"
ADMIN_ID, ADMIN_NAME = "UDEMODANA", "dana"
OTHER_ID, OTHER_NAME = "UDEMOBOB", "bob"
CHANNEL_ID, CHANNEL_NAME = "CDEMOGENERAL", "general"
NOTIFY_ID, NOTIFY_NAME = "CDEMONOTIFY", "dialer-ops"
TEAM_ID, TEAM_DOMAIN = "TDEMO", "demo"
DEMO_USERNAME, DEMO_PASSWORD = "demo@example.com", "demo"
SETTLE_TIMEOUT_S = 60.0

Out = Callable[[str], None]


class ScriptEnded(Exception):
    """The input ran out while the console was waiting for an answer inside a form or dialog."""


# ---------------------------------------------------------------------------- input sources


class ScriptInput:
    """One answer per line (a script file or a pipe), echoed after its prompt like a session."""

    def __init__(self, lines: Iterable[str], out: Out) -> None:
        self._lines: Iterator[str] = iter(lines)
        self._out = out

    async def ask(self, prompt: str, *, top: bool = False) -> str | None:
        for raw in self._lines:
            line = raw.rstrip("\r\n")
            if top and (not line.strip() or line.lstrip().startswith("#")):
                continue
            self._out(prompt + line)
            return line
        return None


class TerminalInput:
    """input() on a daemon thread, so Ctrl-C ends the demo at once and the loop stays free."""

    async def ask(self, prompt: str, *, top: bool = False) -> str | None:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str | None] = loop.create_future()

        def read() -> None:
            try:
                line: str | None = input(prompt)
            except EOFError:
                line = None
            loop.call_soon_threadsafe(lambda: answer.done() or answer.set_result(line))

        threading.Thread(target=read, name="demo-input", daemon=True).start()
        return await answer


# ---------------------------------------------------------------------------- what is on screen


@dataclass
class Shown:
    """A message the console printed; buttons pressed on it send its response_url and ts."""

    id: int
    body: dict[str, Any]
    channel_id: str
    ephemeral: bool
    ts: str | None = None


@dataclass
class Pressable:
    button: Button
    shown: Shown | None  # None: a button inside the open modal


# ---------------------------------------------------------------------------- the session


class DemoSession(ModalConsole):
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
        self._shown: dict[int, Shown] = {}
        self._by_ts: dict[tuple[str, str], int] = {}
        self._shown_seq = 0
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
        cls, *, db_path: str | None = None, role: str = "admin", out: Out = print
    ) -> DemoSession:
        from bot.app import build_app
        from bot.config import load_settings
        from bot.lifecycle import startup
        from bot.services import Services
        from simulator.server import SimulatorConfig, start_simulator

        self = cls(out, role)
        if db_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dialer-bot-demo-")
            db_path = os.path.join(self._tmp.name, "demo.db")
        self.sim = await start_simulator(
            SimulatorConfig(
                host="127.0.0.1",
                port=0,
                username=DEMO_USERNAME,
                password=DEMO_PASSWORD,
                token_lifetime=3000,
                seed=True,
            )
        )
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
        )
        self.services = Services.build(settings)
        if role != "admin":
            grants = self.services.store.grants
            await self.services.store.run(grants.grant, USER_ID, role, None, ADMIN_ID)
        self.app = build_app(self.services)
        await startup(self.services)  # with --db: what a previous run left pending is shown
        return self

    async def close(self) -> None:
        from bot.lifecycle import shutdown

        try:
            if self.services is not None:
                await shutdown(self.services)
        finally:
            if getattr(self, "slack", None) is not None:
                await self.slack.stop()
            if self.sim is not None:
                await self.sim.stop()
            if self._tmp is not None:
                self._tmp.cleanup()

    @property
    def names(self) -> Names:
        return Names(users=self.slack.users, channels=self.slack.channels)

    @property
    def prompt(self) -> str:
        return f"{self.who.user_name}> "

    def banner(self) -> list[str]:
        return [
            "dialer-bot demo: Slack is this terminal, the dialer is the built-in simulator.",
            f"You are @{USER_NAME} ({self.role}) in #{CHANNEL_NAME}; "
            f"notifications go to #{NOTIFY_NAME}.",
            f"Also here: @{ADMIN_NAME} (admin) and @{OTHER_NAME} (no role); "
            f"'as {ADMIN_NAME}' types as her, 'as {USER_NAME}' back.",
            "Type /dialer help, a button's number to press it, help for the console, or quit.",
        ]

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
        if not line or line.startswith("#"):
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
        response_url = self.slack.new_response_url(kind="command")
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
        self._present([self._new_shown(ack, CHANNEL_ID, ephemeral)] if _is_message(ack) else [])

    async def press_number(self, number: int) -> None:
        target = self.buttons.get(number)
        if target is None:
            shown = "  ".join(f"[{n}]" for n in sorted(self.buttons)) or "none"
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
            if answer in ("n", "no"):
                return False
            self.out("  answer y or n")

    # ------------------------------------------------------------------ what the bot sent

    def _new_shown(
        self, body: dict[str, Any], channel_id: str, ephemeral: bool, ts: str | None = None
    ) -> tuple[str, Shown]:
        self._shown_seq += 1
        shown = Shown(self._shown_seq, body, channel_id, ephemeral, ts)
        self._shown[shown.id] = shown
        if ts is not None:
            self._by_ts[(channel_id, ts)] = shown.id
        if ephemeral:
            where = "only visible to you"
        elif channel_id in self.slack.users:
            where = "direct message"
        else:
            where = f"#{self._channel_name(channel_id)}"
        if body.get("thread_ts"):
            where += ", in a thread"
        return f"--- dialer-bot ({where}) ---", shown

    def _channel_name(self, channel_id: str) -> str:
        return self.slack.channels.get(channel_id) or self.slack.users.get(channel_id) or channel_id

    def _present(self, first: list[tuple[str, Shown]]) -> None:
        """Print the ack (if any) and every new call to the stand-in, in order; renumber buttons."""
        items: list[tuple[str, Shown]] = list(first)
        gone: set[int] = set()
        for call in self.slack.calls[self._seen :]:
            item = self._from_call(call, gone)
            if item is not None:
                items.append(item)
        self._seen = len(self.slack.calls)
        if gone:
            self.buttons = {
                n: p for n, p in self.buttons.items() if p.shown is None or p.shown.id not in gone
            }
        fresh: dict[int, Pressable] = {}
        for label, shown in items:
            rendered = render_message(shown.body, self.names, first=len(fresh) + 1)
            self.out(label)
            for line in rendered.lines:
                self.out(line)
            for b in rendered.buttons:
                fresh[b.number] = Pressable(b, shown)
        if fresh:
            self.buttons = fresh

    def _from_call(self, call: Call, gone: set[int]) -> tuple[str, Shown] | None:
        args, result = call.args, call.result
        if call.method == "response_url":
            origin = self.slack.response_origin(str(args.get("key")))
            replaced = self._shown.get(origin.get("shown") or 0)
            if replaced is not None and (
                args.get("delete_original") or args.get("replace_original")
            ):
                gone.add(replaced.id)
                if args.get("delete_original"):
                    self.out("--- dialer-bot deleted its message ---")
                    return None
                label, shown = self._new_shown(args, replaced.channel_id, replaced.ephemeral)
                return label.replace(" ---", ", replacing its message above ---"), shown
            ephemeral = args.get("response_type") != "in_channel"
            return self._new_shown(args, CHANNEL_ID, ephemeral)
        if result and not result.get("ok", True):
            self.out(f"(Slack answered dialer-bot's {call.method}: {result.get('error')})")
            return None
        if call.method == "chat.postMessage":
            return self._new_shown(args, str(result.get("channel")), False, str(result.get("ts")))
        if call.method == "chat.postEphemeral":
            if args.get("user") != self.who.user_id:
                self.out(f"(an ephemeral message to @{self._channel_name(str(args.get('user')))})")
                return None
            return self._new_shown(args, str(args.get("channel")), True)
        if call.method == "chat.update":
            key = (str(args.get("channel")), str(args.get("ts")))
            if key in self._by_ts:
                gone.add(self._by_ts[key])
            label, shown = self._new_shown(args, key[0], False, key[1])
            return label.replace(" ---", ", edited ---"), shown
        if call.method == "chat.delete":
            key = (str(args.get("channel")), str(args.get("ts")))
            if key in self._by_ts:
                gone.add(self._by_ts[key])
            self.out(f"--- dialer-bot deleted a message in #{self._channel_name(key[0])} ---")
        elif call.method in ("views.open", "views.push"):
            self.modals.append(str(result["view"]["id"]))
        elif call.method == "views.publish":
            self.out("--- dialer-bot updated your App Home ---")
            for line in render_blocks(result["view"].get("blocks", []), self.names).lines:
                self.out(line)
        elif call.method == "files.completeUploadExternal" and args.get("channel_id"):
            return self._file_shared(args, result)
        return None

    def _file_shared(self, args: dict[str, Any], result: dict[str, Any]) -> tuple[str, Shown]:
        """A shared file shows as Slack's file message: the comment, then one line a file."""
        lines = [str(args["initial_comment"])] if args.get("initial_comment") else []
        for f in result.get("files") or []:
            stored = self.slack.files.get(str(f.get("id")))
            lines.append(uploaded_file_line(str(f.get("name")), stored.content if stored else b""))
        body = {"text": "\n".join(lines), "thread_ts": args.get("thread_ts")}
        return self._new_shown(body, str(args["channel_id"]), False)


CONSOLE_HELP = """\
Console help
  /dialer …     a slash command, as typed in Slack (try /dialer help)
  <number>      press the button shown with that number
  as <name>     type as another person here (dana is an admin, bob has no role)
  help          this text;  quit  leaves the demo (so does Ctrl-D)
In forms: Enter takes the [default]; '..' takes the defaults of all remaining inputs;
'-' clears an optional answer; options are chosen
by number or value (several: comma-separated); multi-line answers end with a '.' line;
a file input takes the path of a local file."""


def _is_message(body: dict[str, Any]) -> bool:
    return bool(body.get("text") or body.get("blocks") or body.get("attachments"))


def _fake_ts(n: int) -> str:
    return f"1700000000.{n:06d}"


# ---------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dialer-bot demo",
        description="Try dialer-bot in a terminal: Slack and the dialer are simulated in-process.",
        epilog="Interactive in a terminal; with --script FILE or piped input it reads one "
        "input per line and prints the transcript (exit 1 if the input ends inside a form).",
    )
    p.add_argument("--db", metavar="PATH", help="SQLite file to keep (default: a temporary one)")
    p.add_argument(
        "--as",
        dest="role",
        choices=("viewer", "operator", "admin"),
        default="admin",
        help="the console user's role (default: admin)",
    )
    p.add_argument(
        "--script",
        metavar="FILE",
        help="read one input per line from FILE and print the transcript",
    )
    return p


async def run_demo(
    inputs: Callable[[Out], ScriptInput | TerminalInput],
    *,
    db_path: str | None = None,
    role: str = "admin",
    out: Out = print,
) -> int:
    """Start everything, run the console until its input ends, stop everything."""
    session = await DemoSession.start(db_path=db_path, role=role, out=out)
    try:
        for line in session.banner():
            out(line)
        await session.refresh()
        return await session.run(inputs(out))
    finally:
        await session.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not sys.stdout.isatty() and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    elif hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")

    def out(line: str) -> None:
        print(line, flush=True)

    if args.script:
        try:
            with open(args.script, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError as exc:
            print(f"dialer-bot demo: cannot read the script: {exc}", file=sys.stderr)
            return 2

        def make(o: Out) -> ScriptInput | TerminalInput:
            return ScriptInput(lines, o)
    elif not sys.stdin.isatty():

        def make(o: Out) -> ScriptInput | TerminalInput:
            return ScriptInput(sys.stdin, o)
    else:

        def make(o: Out) -> ScriptInput | TerminalInput:
            return TerminalInput()

    try:
        return asyncio.run(run_demo(make, db_path=args.db, role=args.role, out=out))
    except KeyboardInterrupt:
        print("\n(demo stopped)", file=sys.stderr)
        return 130
