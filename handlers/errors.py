"""Dialer errors as one sentence a person can act on, with the dialer's own words escaped."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.dialer import PATHS, DialerError
from handlers.blocks import esc
from store import StorageError


def missing_campaign(exc: DialerError, paths: Mapping[str, str] = PATHS) -> int | None:
    """The campaign id a 404 was about (its detail or control path, as ``paths`` spells
    them, DIALER_PATHS included), or None when the 404 was about something else."""
    if exc.status != 404 or not exc.path:
        return None
    path = exc.path.split("?")[0]
    for name in ("campaign", "control"):
        template = paths.get(name, PATHS[name])
        pattern = "^" + re.escape(template).replace(re.escape("{id}"), r"(\d+)") + "$"
        m = re.match(pattern, path)
        if m and m.groups():
            return int(m.group(1))
    return None


def dialer_error_text(exc: DialerError, doing: str, paths: Mapping[str, str] = PATHS) -> str:
    """The dialer's refusal (409, 400, ...) reaches the user word for word, escaped; a 404
    of a campaign says there is no such campaign and where the list is."""
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
    missing = missing_campaign(exc, paths)
    if missing is not None:
        return (
            f":warning: Could not {doing}: there is no campaign #{missing} "
            f"(the dialer said: {esc(exc.message)}). `/dialer campaigns` lists them."
        )
    return f":warning: Could not {doing}: the dialer answered {exc.status}: {esc(exc.message)}"


def storage_error_text(exc: StorageError, doing: str) -> str:
    """The bot's own database failed it: say so plainly, whether anything was sent, and
    who can fix it (the maintainers; a locked file usually passes)."""
    sent = " Nothing was sent to the dialer." if exc.held_back else ""
    if exc.busy:
        return (
            f":hourglass: Could not {doing}: the bot's storage is busy ({esc(str(exc))})."
            f"{sent} Try again in a moment; if it lasts, tell the bot's maintainers."
        )
    return (
        f":rotating_light: Could not {doing}: the bot's storage is failing ({esc(str(exc))})."
        f"{sent} Please tell the bot's maintainers; commands cannot be recorded until "
        "they fix it."
    )
