"""Check blocks and views against Block Kit's limits before Slack would reject them.

slack_sdk.models validates much of Block Kit on `to_dict()`; Slack's published limits
are checked here as well, so a limit slack_sdk skips still fails a test, naming where.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

# Block Kit limits as Slack documents them; kept here so a corrected limit is one edit.
MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
MAX_VIEW_BUTTON_TEXT = 24  # modal title / submit / close
MAX_PRIVATE_METADATA = 3000
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_ACTIONS_ELEMENTS = 25
MAX_ID = 255  # block_id, action_id, callback_id
MAX_STATIC_OPTIONS = 100
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_VIEW_BYTES = 250_000

_STATIC_SELECTS = ("static_select", "multi_static_select")


def _fail(where: str, what: str) -> None:
    raise AssertionError(f"{where}: {what}")


def _text_of(obj: Any) -> str:
    """The string in a text object (or the string itself)."""
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def _check_len(where: str, what: str, value: Any, limit: int) -> None:
    if value is not None and len(value) > limit:
        _fail(where, f"{what} is {len(value)} characters, limit {limit}")


def _check_confirm(where: str, confirm: dict[str, Any]) -> None:
    _check_len(where, "confirm title", _text_of(confirm.get("title")), MAX_CONFIRM_TITLE)
    _check_len(where, "confirm text", _text_of(confirm.get("text")), MAX_CONFIRM_TEXT)
    for key in ("confirm", "deny"):
        _check_len(where, f"confirm {key} button", _text_of(confirm.get(key)), MAX_CONFIRM_BUTTON)


def _check_element(where: str, el: dict[str, Any]) -> None:
    _check_len(where, "action_id", el.get("action_id"), MAX_ID)
    kind = el.get("type")
    if kind == "button":
        _check_len(where, "button text", _text_of(el.get("text")), MAX_BUTTON_TEXT)
        _check_len(where, "button value", el.get("value"), MAX_BUTTON_VALUE)
    if kind in _STATIC_SELECTS:
        n = len(el.get("options") or [])
        n += sum(len(g.get("options") or []) for g in el.get("option_groups") or [])
        if n > MAX_STATIC_OPTIONS:
            _fail(
                where, f"{kind} has {n} options, limit {MAX_STATIC_OPTIONS} (use external_select)"
            )
    if isinstance(el.get("confirm"), dict):
        _check_confirm(where, el["confirm"])


def _check_block(where: str, block: dict[str, Any]) -> None:
    _check_len(where, "block_id", block.get("block_id"), MAX_ID)
    kind = block.get("type")
    if kind == "section":
        _check_len(where, "section text", _text_of(block.get("text")), MAX_SECTION_TEXT)
        fields = block.get("fields") or []
        if len(fields) > MAX_FIELDS:
            _fail(where, f"section has {len(fields)} fields, limit {MAX_FIELDS}")
        for j, f in enumerate(fields):
            _check_len(f"{where}.fields[{j}]", "field text", _text_of(f), MAX_FIELD_TEXT)
        if isinstance(block.get("accessory"), dict):
            _check_element(f"{where}.accessory", block["accessory"])
    elif kind == "actions":
        elements = block.get("elements") or []
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            _fail(
                where, f"actions block has {len(elements)} elements, limit {MAX_ACTIONS_ELEMENTS}"
            )
        for j, el in enumerate(elements):
            _check_element(f"{where}.elements[{j}]", el)
    elif kind == "input" and isinstance(block.get("element"), dict):
        _check_element(f"{where}.element", block["element"])


def assert_valid_blocks(blocks: list[dict[str, Any]], *, surface: str = "message") -> None:
    """Fail unless `blocks` would be accepted on `surface` ("message", "modal" or "home")."""
    if not isinstance(blocks, list):
        _fail("blocks", f"must be a list, got {type(blocks).__name__}")
    limit = MAX_BLOCKS[surface]
    if len(blocks) > limit:
        _fail("blocks", f"{len(blocks)} blocks, limit {limit} per {surface}")
    for i, raw in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(raw, dict) or "type" not in raw:
            _fail(where, f"not a block: {raw!r:.200}")
        _check_block(where, raw)  # first: its messages name the limit and place precisely
        try:
            parsed = Block.parse(raw)
            if parsed is None:
                _fail(where, f"unknown block type {raw.get('type')!r}")
            parsed.to_dict()
        except (SlackObjectFormationError, TypeError, ValueError) as e:
            raise AssertionError(f"{where} ({raw.get('type')}): slack_sdk rejects it: {e}") from e


def assert_valid_view(view: dict[str, Any]) -> None:
    """Fail unless `view` would be accepted by views.open/update/push/publish."""
    kind = view.get("type")
    if kind not in ("modal", "home"):
        _fail("view.type", f"must be 'modal' or 'home', got {kind!r}")
    if kind == "modal":
        for key in ("title", "submit", "close"):
            _check_len(f"view.{key}", f"modal {key}", _text_of(view.get(key)), MAX_VIEW_BUTTON_TEXT)
    _check_len("view", "private_metadata", view.get("private_metadata"), MAX_PRIVATE_METADATA)
    _check_len("view", "callback_id", view.get("callback_id"), MAX_ID)
    size = len(json.dumps(view, separators=(",", ":")).encode())
    if size > MAX_VIEW_BYTES:
        _fail("view", f"JSON is {size} bytes, limit {MAX_VIEW_BYTES}")
    assert_valid_blocks(view.get("blocks") or [], surface=kind)
    try:
        View(**view).to_dict()
    except (SlackObjectFormationError, TypeError, ValueError) as e:
        raise AssertionError(f"view: slack_sdk rejects it: {e}") from e


# ------------------------------------------------------------------ escaping

# Sequences Slack turns into pings or links in mrkdwn.
_SPECIAL = re.compile(
    r"<(?:!(?:channel|here|everyone|subteam\^[^>|]*)|@[UW][A-Z0-9]*|#C[A-Z0-9]*)[^>]*>"
)


def slack_escape(text: str) -> str:
    """How user data must look in mrkdwn: & < > escaped (what the bot should produce)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def special_sequences(text: str) -> list[str]:
    """Every mention / broadcast / channel link Slack would act on in `text`."""
    return _SPECIAL.findall(text)


def contains_unescaped_mention(text: str, needle: str) -> bool:
    """True if a mention or broadcast inside user data `needle` reaches `text` unescaped.

    E.g. needle = the campaign name "Promo <!channel>", text = what the bot posted.
    """
    return any(seq in text for seq in special_sequences(needle))


def assert_escaped(text: str, *, allowed_ids: tuple[str, ...] = ()) -> None:
    """Fail if `text` would ping or link: <!channel>, <!here>, <!everyone>, <!subteam^…>,
    <@U…> or <#C…> — except user/channel ids in `allowed_ids` the bot mentions on purpose
    ("approved by <@U123>", "subscribed <#C0001>")."""
    for seq in special_sequences(text):
        m = re.match(r"<[@#]([A-Z0-9]+)", seq)
        if m and m.group(1) in allowed_ids:
            continue
        at = text.find(seq)
        context = text[max(0, at - 40) : at + len(seq) + 40]
        _fail("text", f"unescaped {seq!r} would ping/link in Slack: …{context}…")
