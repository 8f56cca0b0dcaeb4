"""Block Kit as plain text for `dialer-bot demo`: messages, buttons and confirmations.

Pure functions only (no I/O), so that what the console shows is easy to test: the
screen in simulator/demo/screen.py feeds them what the bot sent and prints what comes back.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Block = dict[str, Any]

EMOJI = {
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "warning": "⚠️",
    "no_entry": "⛔",
    "no_entry_sign": "🚫",
    "information_source": "ℹ️",
    "grey_question": "❔",
    "question": "❓",
    "x": "❌",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "rotating_light": "🚨",
    "bell": "🔔",
    "lock": "🔒",
    "memo": "📝",
    "telephone_receiver": "📞",
    "arrows_counterclockwise": "🔄",
    "wastebasket": "🗑️",
    "inbox_tray": "📥",
    "clipboard": "📋",
    "eyes": "👀",
    "tada": "🎉",
    "large_green_circle": "🟢",
    "double_vertical_bar": "⏸️",
    "black_square_for_stop": "⏹️",
    "arrow_forward": "▶️",
    "stopwatch": "⏱️",
    "mag": "🔍",
    "pencil2": "✏️",
    "busts_in_silhouette": "👥",
    "hand": "✋",
    "raised_hand": "✋",
    "thumbsup": "👍",
    "+1": "👍",
    "thumbsdown": "👎",
    "-1": "👎",
    "key": "🔑",
    "shield": "🛡️",
    "bust_in_silhouette": "👤",
    "heavy_plus_sign": "➕",
    "heavy_minus_sign": "➖",
    "pencil": "📝",
    "page_facing_up": "📄",
    "calendar": "📆",
    "clock3": "🕒",
    "red_circle": "🔴",
    "white_circle": "⚪",
    "speech_balloon": "💬",
    "mailbox": "📫",
    "link": "🔗",
    "gear": "⚙️",
    "sparkles": "✨",
    "fire": "🔥",
    "stop_sign": "🛑",
    "leftwards_arrow_with_hook": "↩️",
}


@dataclass(frozen=True)
class Names:
    """What `<@U…>` and `<#C…>` show as: Slack clients display names, not IDs."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Button:
    """A pressable element the console numbered: a button, or one option of an overflow menu."""

    number: int
    text: str
    action_id: str
    block_id: str | None
    value: str | None
    element: dict[str, Any]
    confirm: dict[str, Any] | None = None
    url: str | None = None
    selected_option: dict[str, Any] | None = None  # overflow menus send the option chosen


@dataclass
class Rendered:
    lines: list[str]
    buttons: list[Button]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


# ---------------------------------------------------------------------------- text


_TOKEN = re.compile(r"<([^<>\n]+)>")
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_SHORTCODE = re.compile(r":([a-z0-9_+\-]+):")


def unescape(text: str) -> str:
    """Slack's three escapes back to characters (&amp; last, so "&amp;lt;" stays "&lt;")."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def emoji(text: str) -> str:
    return _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _token(inner: str, names: Names) -> str:
    body, _, label = inner.partition("|")
    if body.startswith("@"):
        uid = body[1:]
        return "@" + names.users.get(uid, label or uid)
    if body.startswith("#"):
        cid = body[1:]
        return "#" + names.channels.get(cid, label or cid)
    if body.startswith("!"):
        if body.startswith("!date^"):
            return label or body.split("^")[1]
        if body.startswith("!subteam^"):
            return label or "@group"
        return "@" + (label or body[1:])
    url = unescape(body)
    if not label or unescape(label) == url:
        return url
    if url.startswith("mailto:"):
        return label
    return f"{label} ({url})"


def mrkdwn(text: str, names: Names | None = None) -> str:
    """mrkdwn as a person reads it: mentions by name, dates by fallback, no markup, unescaped."""
    names = names or Names()
    out: list[str] = []
    parts = _CODE.split(text)
    for i, part in enumerate(parts):
        if i % 2 == 1:  # a code span: Slack shows it literally; a block on lines of its own
            if part.startswith("```"):
                before = "\n" if "".join(out) and not "".join(out).endswith("\n") else ""
                after = "\n" if i + 1 < len(parts) and parts[i + 1][:1] not in ("", "\n") else ""
                part = before + part[3:-3].strip("\n") + after
            out.append(unescape(part))
            continue
        part = _TOKEN.sub(lambda m: _token(m.group(1), names), part)
        part = _BOLD.sub(r"\1", part)
        part = _ITALIC.sub(r"\1", part)
        out.append(unescape(emoji(part)))
    return "".join(out)


def text_of(obj: Any, names: Names | None = None) -> str:
    """A text object (plain_text or mrkdwn) or a bare string, as shown."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn(text, names)
    return emoji(text)


# ---------------------------------------------------------------------------- blocks


def button_row(buttons: Iterable[Button]) -> str:
    return "  ".join(f"[{b.number}] {b.text}" for b in buttons)


class _Numbering:
    def __init__(self, first: int) -> None:
        self.next = first
        self.buttons: list[Button] = []

    def pressables(self, el: dict[str, Any], block_id: str | None, names: Names) -> list[Button]:
        """Numbers a button, or each option of an overflow menu; other elements get none."""
        if el.get("type") == "button":
            choices = [(el, None)]
        elif el.get("type") == "overflow":
            choices = [(opt, opt) for opt in el.get("options", [])]
        else:
            choices = []
        made: list[Button] = []
        for choice, selected in choices:  # a button is its own choice; an overflow has options
            made.append(
                Button(
                    self.next,
                    text_of(choice.get("text"), names),
                    str(el.get("action_id", "")),
                    block_id,
                    choice.get("value"),
                    el,
                    el.get("confirm"),
                    choice.get("url"),
                    selected_option=selected,
                )
            )
            self.next += 1
        self.buttons.extend(made)
        return made


def _field_lines(text: str) -> list[str]:
    """'*Name*\\nvalue' fields read as 'Name: value'; longer values go on indented lines."""
    head, _, rest = text.partition("\n")
    if not rest:
        return [f"  {head}"]
    rest_lines = rest.split("\n")
    if len(rest_lines) == 1 and len(head) + len(rest_lines[0]) < 70:
        return [f"  {head}: {rest_lines[0]}"]
    return [f"  {head}:"] + [f"    {line}" for line in rest_lines]


def _other_element(el: dict[str, Any], names: Names) -> str:
    kind = el.get("type", "?")
    if kind == "image":
        return f"(image: {el.get('alt_text', '')})"
    placeholder = text_of(el.get("placeholder"), names)
    return f"({kind.replace('_', ' ')}{': ' + placeholder if placeholder else ''})"


def _rich_text(node: Any, names: Names) -> str:
    if isinstance(node, list):
        return "".join(_rich_text(n, names) for n in node)
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "link":
        return str(node.get("text") or node.get("url", ""))
    if kind == "user":
        uid = str(node.get("user_id", ""))
        return "@" + names.users.get(uid, uid)
    if kind == "channel":
        cid = str(node.get("channel_id", ""))
        return "#" + names.channels.get(cid, cid)
    if kind == "emoji":
        return emoji(f":{node.get('name', '')}:")
    inner = _rich_text(node.get("elements", []), names)
    if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote"):
        return inner + "\n"
    return inner


def render_blocks(blocks: list[Block], names: Names | None = None, first: int = 1) -> Rendered:
    """Every block as lines of text; buttons numbered from `first` in reading order."""
    names = names or Names()
    num = _Numbering(first)
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        block_id = block.get("block_id")
        if kind == "header":
            lines.append(f"=== {text_of(block.get('text'), names)} ===")
        elif kind == "section":
            if block.get("text"):
                lines.extend(text_of(block["text"], names).split("\n"))
            for f in block.get("fields") or []:
                lines.extend(_field_lines(text_of(f, names)))
            acc = block.get("accessory")
            if acc:
                made = num.pressables(acc, block_id, names)
                lines.append("  " + (button_row(made) if made else _other_element(acc, names)))
        elif kind == "context":
            parts = [
                f"(image: {el.get('alt_text', '')})"
                if el.get("type") == "image"
                else text_of(el, names)
                for el in block.get("elements", [])
            ]
            lines.append("  " + "  ·  ".join(p for p in parts if p))
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "actions":
            made, others = [], []
            for el in block.get("elements", []):
                got = num.pressables(el, block_id, names)
                if got:
                    made.extend(got)
                else:
                    others.append(_other_element(el, names))
            lines.append("  " + "  ".join([button_row(made)] * bool(made) + others))
        elif kind == "image":
            title = text_of(block.get("title"), names)
            lines.append(f"(image: {title or block.get('alt_text', '')})")
        elif kind == "rich_text":
            lines.extend(_rich_text(block.get("elements", []), names).rstrip("\n").split("\n"))
        elif kind == "markdown":
            lines.extend(str(block.get("text", "")).split("\n"))
        elif kind == "input":
            label = text_of(block.get("label"), names)
            lines.append(f"{label}: {_other_element(block.get('element', {}), names)}")
        else:
            lines.append(f"({kind} block)")
    return Rendered(lines, num.buttons)


def render_message(msg: Mapping[str, Any], names: Names | None = None, first: int = 1) -> Rendered:
    """A message body (ack, response_url or chat.* arguments): blocks if any, else its text."""
    names = names or Names()
    blocks = msg.get("blocks")
    if blocks:
        out = render_blocks(list(blocks), names, first)
    else:
        out = Rendered(mrkdwn(str(msg.get("text") or ""), names).split("\n"), [])
    for att in msg.get("attachments") or []:
        inner = render_message(att, names, first + len(out.buttons))
        out.lines.extend("| " + line for line in inner.lines)
        out.buttons.extend(inner.buttons)
    return out


def uploaded_file_line(name: str, content: bytes) -> str:
    """What stands for a file the bot shared: a CSV with its data rows, else its size."""
    if name.lower().endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
            rows = sum(1 for row in csv.reader(io.StringIO(text, newline="")) if row)
        except (UnicodeDecodeError, csv.Error):
            pass
        else:
            return f"📎 {name} ({max(rows - 1, 0):,} rows) uploaded"
    return f"📎 {name} ({len(content):,} bytes) uploaded"


def confirm_question(confirm: Mapping[str, Any], names: Names | None = None) -> str:
    """A button's confirm dialog as one question: 'title — text [y/n]'."""
    title = text_of(confirm.get("title"), names)
    text = text_of(confirm.get("text"), names)
    yes = text_of(confirm.get("confirm"), names) or "Yes"
    no = text_of(confirm.get("deny"), names) or "Cancel"
    return f"{title} — {text} (y = {yes}, n = {no}) [y/n] "
