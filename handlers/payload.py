"""The one reader of untrusted JSON: request bodies and private_metadata.

Whoever holds the signing secret (or Slack with a bug) can send any bytes: text that is
not UTF-8, JSON that is an array, a string or 1,000 levels deep, fields of the wrong
type. Everything that parses such input goes through here, so "malformed" has one
meaning: the reader answers None (or an empty dict) and the caller refuses politely,
never with a traceback. A nesting limit keeps recursion (ours, Bolt's, the audit's
secret check) far from Python's own limit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

# Slack's deepest payloads (a view's state, rich text blocks) nest about a dozen levels.
MAX_DEPTH = 32
# What a modal remembers is ours: a flat object, at most 3,000 characters (Slack's limit).
METADATA_MAX_CHARS = 3000
METADATA_MAX_DEPTH = 4


class Malformed(ValueError):
    """A request body the bot cannot read; the message says why, without the body."""


def within_depth(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and dicts at most ``limit`` deep (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


def loads(text: Any, *, max_depth: int = MAX_DEPTH, max_chars: int | None = None) -> Any:
    """JSON text to a value, or Malformed: not text, too long, not JSON, or nested too deep."""
    if not isinstance(text, str | bytes):
        raise Malformed("not JSON text")
    if max_chars is not None and len(text) > max_chars:
        raise Malformed("JSON text too long")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise Malformed("not JSON, or nested too deep") from exc
    if not within_depth(value, max_depth):
        raise Malformed("JSON nested too deep")
    return value


def load_object(text: Any, **limits: Any) -> dict[str, Any] | None:
    """A JSON object from ``text``, or None for anything else (never raises)."""
    try:
        value = loads(text, **limits)
    except Malformed:
        return None
    return value if isinstance(value, dict) else None


def read_metadata(raw: Any) -> dict[str, Any] | None:
    """private_metadata text as the object the bot wrote, or None when it is not one.

    Slack hands it back untouched, but a forger need not: every reader treats each key
    as untrusted and checks its type, and nothing in it decides whose role counts where
    a stored record says it (an approval's channel)."""
    return load_object(raw, max_depth=METADATA_MAX_DEPTH, max_chars=METADATA_MAX_CHARS)


def metadata(view: Any) -> dict[str, Any]:
    """A modal's private_metadata (see read_metadata), {} when missing or not an object."""
    raw = view.get("private_metadata") if isinstance(view, Mapping) else None
    return read_metadata(raw) or {}


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


# ---- the request body ---------------------------------------------------------------


def bolt_request(raw: bytes, query: str, headers: Mapping[str, str]) -> AsyncBoltRequest:
    """The Bolt request for a body whose signature was checked, or Malformed.

    The checks Bolt's own parser skips come first (UTF-8, JSON, depth, an object at the
    top); then Bolt parses the same text the same way, so what it sees was checked."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed("body is not UTF-8") from exc
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type == "application/json" or text.startswith("{"):
        _object(text)
    elif "payload" in text:  # form-encoded interactivity: payload=<json>
        from urllib.parse import parse_qsl

        _object(dict(parse_qsl(text, keep_blank_values=True)).get("payload"))
    try:
        request = AsyncBoltRequest(body=text, query=query, headers=dict(headers))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        # Bolt reads ids from the body as it builds the context; wrongly typed ones fail.
        raise Malformed(f"unreadable body ({type(exc).__name__})") from exc
    if not isinstance(request.body, dict):
        raise Malformed("body is not an object")
    return request


def _object(text: str | None) -> None:
    if text is None:
        return  # "payload" only somewhere in a form field: Bolt reads it as a plain form
    if not isinstance(loads(text), dict):
        raise Malformed("body is not a JSON object")


# ---- the shape every surface needs -----------------------------------------------------


def problem(body: dict[str, Any]) -> str | None:
    """What makes a parsed body unusable for the surface it claims to be, or None.

    Only the fields Slack always sends and the bot (or Bolt's matchers) read without
    checking: those must be there with their type. A forged payload that passes still
    meets listeners that check each value they use."""
    kind = body.get("type")
    if kind is None:
        if "command" in body:
            return _fields(body, "command", "text", "user_id", "channel_id")
        if "ssl_check" in body:
            return None
        return "no type"
    if not isinstance(kind, str):
        return "type is not a string"
    wrong = _typed(body, dict, "user", "team", "channel", "container", "view", "message", "state")
    wrong = wrong or _typed(body, str, "response_url", "trigger_id", "team_id", "api_app_id")
    if wrong:
        return wrong
    needs_user = kind in ("block_actions", "view_submission", "view_closed", "block_suggestion")
    if needs_user and not isinstance(as_dict(body.get("user")).get("id"), str):
        return "no user id"
    if kind == "block_actions":
        found = body.get("actions")
        if not (isinstance(found, list) and found):
            return "no actions"
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in found):
            return "an action without action_id"
    elif kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict):
            return "no view"
        return _view_problem(view)
    elif kind == "block_suggestion":
        return _fields(body, "action_id", "value")
    elif kind in ("shortcut", "message_action"):
        if not isinstance(body.get("callback_id"), str):
            return "no callback_id"
        user = body.get("user")
        if not (isinstance(user, dict) and isinstance(user.get("id"), str)):
            return "no user id"
    elif kind == "event_callback":
        event = body.get("event")
        if not (isinstance(event, dict) and isinstance(event.get("type"), str)):
            return "no event type"
        return _typed(body, str, "event_id")
    elif kind == "url_verification":
        return _fields(body, "challenge")
    return None


def _view_problem(view: dict[str, Any]) -> str | None:
    # Bolt's matchers read view.type (workflow steps) and view.callback_id unchecked.
    if not (isinstance(view.get("callback_id"), str) and isinstance(view.get("type"), str)):
        return "a view without callback_id or type"
    state = view.get("state")
    if state is not None and not (
        isinstance(state, dict) and isinstance(state.get("values"), dict)
    ):
        return "a view state that is not an object"
    return _typed(view, str, "id", "private_metadata", "hash")


def _fields(body: dict[str, Any], *names: str) -> str | None:
    for name in names:
        if not isinstance(body.get(name), str):
            return f"no {name}"
    return None


def _typed(body: dict[str, Any], kind: type, *names: str) -> str | None:
    """Optional fields: absent (or null) is fine, present must be of ``kind``."""
    for name in names:
        value = body.get(name)
        if value is not None and not isinstance(value, kind):
            return f"{name} is not a {kind.__name__}"
    return None
