"""Dialer errors as one sentence a person can act on, with the dialer's own words escaped."""

from __future__ import annotations

from bot.dialer import DialerError
from handlers.blocks import esc


def dialer_error_text(exc: DialerError, doing: str) -> str:
    """The dialer's refusal (409, 400, ...) reaches the user word for word, escaped."""
    if exc.kind == "connection" and exc.sent is False:
        return (
            f":warning: Could not {doing}: the dialer could not be reached "
            f"({esc(exc.message)}). Nothing was sent; try again when it is back."
        )
    if exc.kind in ("timeout", "connection"):
        return (
            f":warning: Could not {doing}: the dialer did not answer in time "
            f"({esc(exc.message)}). Try again in a minute."
        )
    if exc.status is not None and 200 <= exc.status < 300:  # accepted, but the answer fell short
        return f":warning: Tried to {doing}: {esc(exc.message)}"
    return f":warning: Could not {doing}: the dialer answered {exc.status}: {esc(exc.message)}"
