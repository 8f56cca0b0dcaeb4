"""What a failed dialer request means, in words a person can act on.

Transport failures say whether the request may have been carried out; HTTP errors carry
the dialer's own words, whatever shape its error body has.
"""

from __future__ import annotations

import re
import socket
from typing import Any

import httpx

from bot.dialer.models import DialerError

ERROR_BODY_LIMIT = 300


def transport_error(
    exc: httpx.TransportError, method: str, path: str, base_url: str, timeout: float
) -> DialerError:
    """Map httpx failures to what the caller needs: was the request possibly executed?"""
    where = _origin(exc, base_url)
    if isinstance(exc, httpx.ConnectTimeout):
        msg = f"could not connect to the dialer at {where} within the connect timeout"
        return DialerError(msg, method=method, path=path, kind="timeout", sent=False)
    if isinstance(exc, httpx.PoolTimeout):
        # Raised while waiting for a free connection: the request never left.
        msg = "too many requests in flight; no connection to the dialer became free in time"
        return DialerError(msg, method=method, path=path, kind="timeout", sent=False)
    if isinstance(exc, httpx.TimeoutException):
        msg = (
            f"no answer within {timeout:g} s; "
            "the dialer may or may not have carried out the request"
        )
        return DialerError(msg, method=method, path=path, kind="timeout", sent=None)
    if isinstance(exc, httpx.UnsupportedProtocol):
        msg = f"the dialer URL {where} is not an http:// or https:// URL"
        return DialerError(msg, method=method, path=path, kind="connection", sent=False)
    if isinstance(exc, httpx.ConnectError):
        reason = _connect_reason(exc)
        msg = f"could not connect to the dialer at {where}: {reason}"
        return DialerError(msg, method=method, path=path, kind="connection", sent=False)
    msg = (
        f"the connection to the dialer at {where} broke before an answer "
        f"({_reason(exc)}); the dialer may or may not have carried out the request"
    )
    return DialerError(msg, method=method, path=path, kind="connection", sent=None)


def truncate(text: str) -> str:
    text = text.strip()
    return text if len(text) <= ERROR_BODY_LIMIT else text[:ERROR_BODY_LIMIT] + "…"


def error_message(response: httpx.Response) -> str:
    """The dialer's own words, whatever the shape of its error body:
    ``{"message": "..."}``, NestJS ``{"message": [...]}``, class-validator
    ``{"message", "errors": [{"property", "constraints", "children"}]}``, Keycloak
    ``{"error", "error_description"}``, RFC 7807 ``{"title", "detail"}``, plain text, or a
    proxy's HTML page (status and title only, never the HTML)."""
    status = response.status_code
    if _is_html(response):
        title = _HTML_TITLE.search(response.text)
        name = _reason_phrase(response)
        text = " ".join(title.group(1).split()) if title else ""
        return truncate(f"an HTML page ({text or name})" if text or name else "an HTML page")
    try:
        body = response.json()
    except ValueError:
        return truncate(response.text) or f"HTTP {status} {_reason_phrase(response)}".strip()
    if isinstance(body, list):
        return truncate("; ".join(str(x) for x in body)) or f"HTTP {status}"
    if not isinstance(body, dict):
        return truncate(str(body)) or f"HTTP {status}"
    message = body.get("message")
    if isinstance(message, list):  # NestJS: one text per failed rule
        message = "; ".join(str(x) for x in message if x)
    elif isinstance(message, dict):
        message = message.get("message") or message.get("text")
    if not message:
        described = body.get("error_description") or body.get("detail")
        error = body.get("error") or body.get("title")
        if isinstance(error, dict):
            error = error.get("message")
        message = f"{error}: {described}" if error and described else (described or error)
    texts = [f"{path}: {problem}" if path else problem for path, problem in _fields(body)]
    said = "; ".join(t for t in texts if t not in str(message or ""))
    if said:
        message = f"{message} ({said})" if message else said
    return truncate(str(message)) if message else f"HTTP {status}"


def error_fields(response: httpx.Response) -> tuple[tuple[str, str], ...]:
    """(property path, problem) pairs named by a class-validator or similar error body."""
    if _is_html(response):
        return ()
    try:
        body = response.json()
    except ValueError:
        return ()
    return _fields(body) if isinstance(body, dict) else ()


def _fields(body: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    errors = body.get("errors")
    found: list[tuple[str, str]] = []
    if isinstance(errors, list):
        for item in errors:
            _walk(item, "", found)
    elif isinstance(errors, dict):  # {"errors": {"name": ["is taken"]}}
        for path, problems in errors.items():
            texts = problems if isinstance(problems, list) else [problems]
            found.extend((str(path), str(t)) for t in texts if t)
    return tuple(found[:50])


def _walk(item: Any, prefix: str, found: list[tuple[str, str]]) -> None:
    """class-validator's tree: numeric properties are array indexes, as in callLists[0]."""
    if not isinstance(item, dict):
        said = _PATH_PROBLEM.match(item) if isinstance(item, str) else None
        if said:  # "callerId: must be digits"
            found.append((said.group(1), said.group(2).strip()))
        elif isinstance(item, str) and item:
            found.append(("", item))
        return
    prop = str(item.get("property") or item.get("field") or item.get("path") or "")
    if prop.isdigit():
        path = f"{prefix}[{prop}]"
    else:
        path = f"{prefix}.{prop}" if prefix and prop else (prop or prefix)
    constraints = item.get("constraints")
    if isinstance(constraints, dict):
        found.extend((path, str(text)) for text in constraints.values() if text)
    elif isinstance(item.get("message"), str):
        found.append((path, item["message"]))
    for child in item.get("children") or ():
        _walk(child, path, found)


_PATH_PROBLEM = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.\[\]]*)\s*:\s*(.+)$", re.S)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


def _is_html(response: httpx.Response) -> bool:
    kind = response.headers.get("Content-Type", "").lower()
    start = response.text.lstrip()[:15].lower()
    return "html" in kind or start.startswith(("<!doctype html", "<html"))


def _reason_phrase(response: httpx.Response) -> str:
    try:
        return response.reason_phrase
    except Exception:  # noqa: BLE001  (a missing phrase is no reason to lose the error)
        return ""


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (the HTTP-date form is rare for APIs and ignored)."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _origin(exc: httpx.TransportError, fallback: str) -> str:
    try:
        url = exc.request.url
    except RuntimeError:
        return fallback
    return f"{url.scheme}://{url.netloc.decode('ascii')}"


def _connect_reason(exc: BaseException) -> str:
    """httpx says "All connection attempts failed"; the OS error underneath says why."""
    seen: BaseException | None = exc
    for _ in range(10):  # the cause chain is short; bound it anyway
        if seen is None:
            break
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return f"cannot resolve the host name ({seen.strerror or seen})"
        seen = seen.__cause__ or seen.__context__
    return _reason(exc)


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
