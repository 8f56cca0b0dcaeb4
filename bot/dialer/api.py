"""What the bot assumes about the real Voipex API, in one table.

The guide documents four calls; every other path, the state names and what each state
allows are *assumed* (facts.md §1). Correct them here, and only here.
"""

from __future__ import annotations

# Every API path in one place. The guide documents /ivr, POST call-lists, POST campaigns
# and control; the list/detail/update paths are *assumed* conventional REST (facts.md §1).
PATHS: dict[str, str] = {
    "ivr": "/ivr",
    "call_lists": "/dialer/call-lists",
    "call_list": "/dialer/call-lists/{id}",
    "campaigns": "/dialer/campaigns",
    "campaign": "/dialer/campaigns/{id}",
    "control": "/dialer/campaigns/{id}/control",
}


# The campaign control vocabulary (guide, step 4) and the *assumed* state names
# (facts.md §1): kept here, in one place, so they are easy to correct.
COMMANDS: tuple[str, ...] = ("start", "pause", "unpause", "reload", "remove")
STATES: tuple[str, ...] = ("stopped", "running", "paused")
ALLOWED_COMMANDS: dict[str, tuple[str, ...]] = {
    "stopped": ("start", "remove"),
    "running": ("pause", "reload", "remove"),
    "paused": ("unpause", "reload", "remove"),
}


# Synonyms of the state names, compared case-insensitively: the bot's own name for each
# state the dialer may report. WombatDialer's run states (facts.md §1) are among them.
STATE_SYNONYMS: dict[str, str] = {
    "running": "running",
    "active": "running",
    "wrong_time": "wrong_time",  # running, but outside its active period
    "paused": "paused",
    "stopped": "stopped",
    "idle": "stopped",
    "created": "stopped",
    "new": "stopped",
    "completed": "completed",
    "finished": "completed",
}
# The bot's names for states in which the dialer is (or may be about to start) calling.
RUNNING_STATES: frozenset[str] = frozenset({"running", "wrong_time"})


def canonical_state(raw: object) -> str | None:
    """The bot's name for a state the dialer reported, or None when the bot does not know it.

    None means: show the state exactly as the dialer gave it and let the dialer decide.
    """
    if not isinstance(raw, str):
        return None
    return STATE_SYNONYMS.get(raw.strip().lower().replace("-", "_").replace(" ", "_"))
