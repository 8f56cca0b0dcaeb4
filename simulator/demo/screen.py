"""The demo console's screen: the messages it printed and the numbered buttons on them.

Every button gets a number of its own for the whole session: a number is never given twice,
and a button stays pressable as long as its message is there (until the bot replaces,
edits or deletes the message, or, for an ephemeral one, another person types). So typing a
number can only press the button that was shown with it, never one of an older message that
happened to get the same number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.demo import payloads
from simulator.demo.render import (
    Button,
    Names,
    render_message,
    uploaded_file_line,
)
from simulator.demo.source import Out
from simulator.slack_standin import Call, ConsoleSlack


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


class ConsoleScreen:
    """What the bot sent, as the console prints it: each new call to the Slack stand-in becomes
    a printed message, and the buttons on it are numbered for pressing. Mixed into
    DemoSession, which holds the stand-in and the person typing."""

    out: Out
    slack: ConsoleSlack
    who: payloads.Who
    buttons: dict[int, Pressable]
    modals: list[str]
    _seen: int
    _shown: dict[int, Shown]
    _by_ts: dict[tuple[str, str], int]
    _shown_seq: int
    _next_button: int

    @property
    def names(self) -> Names:
        return Names(users=self.slack.users, channels=self.slack.channels)

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
            if channel_id != self.who.channel_id:
                where += f" in #{self._channel_name(channel_id)}"
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
        """Print the ack (if any) and every new call to the stand-in, in order; the buttons of
        each new message get the next unused numbers, those of messages now gone are dropped."""
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
        for label, shown in items:
            rendered = render_message(shown.body, self.names, first=self._next_button)
            self._next_button += len(rendered.buttons)
            self.out(label)
            for line in rendered.lines:
                self.out(line)
            for b in rendered.buttons:
                self.buttons[b.number] = Pressable(b, shown)

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
            # A new message goes where the click or command came from: the clicked message's
            # channel, else the channel the command was typed in.
            channel = replaced.channel_id if replaced else origin.get("channel")
            ephemeral = args.get("response_type") != "in_channel"
            return self._new_shown(args, str(channel or self.who.channel_id), ephemeral)
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
        elif call.method == "views.publish" and args.get("user_id") == self.who.user_id:
            # Shown like a message in the bot's DM, so its buttons can be pressed by number.
            home = {"text": "App Home", "blocks": result["view"].get("blocks", [])}
            _, shown = self._new_shown(home, self.who.user_id, False)
            return "--- dialer-bot updated your App Home ---", shown
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
