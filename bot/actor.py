"""Who asked, from where: the one identity every service, audit row and handler passes on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who asked, from where: Slack IDs only; the name is kept for readable audit rows."""

    user_id: str
    channel_id: str | None = None
    team_id: str | None = None
    user_name: str | None = None
