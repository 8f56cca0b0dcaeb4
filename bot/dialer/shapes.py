"""How an answer of the dialer is read, whatever reasonable shape it has.

Lists may be bare arrays or wrapped in an envelope (api.LIST_KEYS, api.RESOURCE_KEYS),
possibly paged; a single object may be wrapped in ``data``; a control or create answer may
be empty, plain text or any JSON object. Nothing here knows Slack or HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from bot.dialer.api import LIST_KEYS, RESOURCE_KEYS

PAGE_KEYS = ("page", "pageNumber", "currentPage")
SIZE_KEYS = ("limit", "pageSize", "perPage", "per_page", "size")
TOTAL_KEYS = ("total", "totalCount", "count", "totalItems")
PAGES_KEYS = ("totalPages", "pages", "pageCount", "lastPage")
NEXT_KEYS = ("next", "nextPage", "next_page")
PAGING = (*PAGE_KEYS, *SIZE_KEYS, *TOTAL_KEYS, *PAGES_KEYS, *NEXT_KEYS)


class ShapeError(ValueError):
    """The answer fits none of the shapes the bot reads; the message names what was found."""


@dataclass(frozen=True)
class Page:
    """One answer to a list request: its items, where they sat, and how to get the next."""

    items: list[Any]
    envelope: str  # "bare array" or 'object, list under "data"'
    next_path: str | None = None
    extra_keys: tuple[str, ...] = field(default=())
    paging: dict[str, Any] = field(default_factory=dict)  # carried to the next page


def describe(value: Any) -> str:
    """What was found, for an error message: type and, for objects, their keys."""
    if isinstance(value, dict):
        keys = ", ".join(sorted(str(k) for k in value)[:12]) or "none"
        return f"an object with keys: {keys}"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    if value is None:
        return "an empty answer"
    if isinstance(value, str):
        if value.lstrip()[:1] == "<":  # a proxy's or login page's HTML: never shown
            return "an HTML page"
        return "text " + repr(value[:60])
    return type(value).__name__


def read_page(name: str, path: str, body: Any, carried: dict[str, Any] | None = None) -> Page:
    """The items of one page and the path of the next one, if the answer says it pages.
    ``name`` is the PATHS key of the list; ``carried`` the paging fields of the page before
    (a later page may omit the total)."""
    label = name.replace("_", " ")
    keys = (*LIST_KEYS, *RESOURCE_KEYS.get(name, ()))
    if isinstance(body, list):
        return Page(body, "bare array")
    if not isinstance(body, dict):
        raise ShapeError(f"expected a list of {label}, found {describe(body)}")
    for key in keys:
        items = body.get(key)
        holder, where, inner = body, key, key
        if isinstance(items, dict):  # {"data": {"items": [...], "total": n}}
            found = next((k for k in keys if isinstance(items.get(k), list)), None)
            if found is None:
                continue
            holder, where, inner, items = items, f"{key}.{found}", found, items[found]
        if isinstance(items, list):
            extra = tuple(k for k in holder if k != inner)
            paging = {**(carried or {}), **{k: holder[k] for k in PAGING if k in holder}}
            following = _next_path(path, paging, len(items))
            return Page(items, f'object, list under "{where}"', following, extra, paging)
    quoted = ", ".join(f'"{k}"' for k in keys)
    raise ShapeError(
        f"expected a list of {label}, as an array or under one of {quoted}; found {describe(body)}"
    )


def _first(body: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in body and body[key] is not None:
            return body[key]
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _next_path(path: str, body: dict[str, Any], count: int) -> str | None:
    """A ``next`` link (absolute or relative), else page/limit arithmetic; None at the end."""
    link = _first(body, NEXT_KEYS)
    if isinstance(link, str) and link.strip():
        parts = urlsplit(link.strip())
        if parts.path or parts.query:
            target = parts.path or urlsplit(path).path
            return target + (f"?{parts.query}" if parts.query else "")
        return None
    if link is not None and not isinstance(link, str | int):
        return None
    page = _int(_first(body, PAGE_KEYS))
    if page is None or count == 0:
        return None
    size = _int(_first(body, SIZE_KEYS)) or count
    pages = _int(_first(body, PAGES_KEYS))
    total = _int(_first(body, TOTAL_KEYS))
    if pages is None and total is not None and size > 0:
        pages = -(-total // size)
    if pages is None or page >= pages:
        return None
    split = urlsplit(path)
    query = dict(parse_qsl(split.query))
    page_key = next(k for k in PAGE_KEYS if k in body)
    query[page_key] = str(page + 1)
    size_key = next((k for k in SIZE_KEYS if k in body), None)
    if size_key is not None:
        query[size_key] = str(size)
    return f"{split.path}?{urlencode(query)}"


def unwrap_object(body: Any) -> Any:
    """A single object, also when wrapped as ``{"data": {...}}`` (without an id of its own)."""
    if isinstance(body, dict) and "id" not in body:
        for key in LIST_KEYS:
            inner = body.get(key)
            if isinstance(inner, dict):
                return inner
    return body


def answer_fields(body: Any) -> tuple[str, str | None, Any]:
    """(message, state, id) from a write's answer: empty, plain text or any JSON object."""
    if body is None:
        return "", None, None
    if isinstance(body, str):
        return body.strip()[:300], None, None
    body = unwrap_object(body)
    if not isinstance(body, dict):
        return "", None, None
    message = _first(body, ("message", "detail", "status", "result"))
    state = body.get("state")
    if isinstance(state, dict):  # {"state": {"name": "RUNNING"}}
        state = state.get("name") or state.get("value")
    text = message if isinstance(message, str) else ""
    state_text = str(state) if isinstance(state, str | int) and str(state) else None
    return text, state_text, body.get("id")
