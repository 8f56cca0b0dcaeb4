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
    # Set when the person did not ask in Slack themselves but through something acting
    # for them, e.g. "workflow Wx123 (step pause_campaign, run Fx456)": audit rows and
    # notifications say so.
    via: str | None = None
