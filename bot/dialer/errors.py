"""What a failed dialer request means, in words a person can act on.

Transport failures say whether the request may have been carried out; HTTP errors carry
the dialer's own words, whatever shape its error body has.
"""

from __future__ import annotations

import socket

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
    """The dialer's own words: ``message``, else ``error_description``, else the body text."""
    try:
        body = response.json()
    except ValueError:
        return truncate(response.text) or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        for key in ("message", "error_description", "error"):
            if body.get(key):
                return truncate(str(body[key]))
    return truncate(response.text) or f"HTTP {response.status_code}"


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
