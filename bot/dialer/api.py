"""What the bot assumes about the real Voipex API, in one table.

The guide documents four calls; every other path, the state names and what each state
allows, and the shape of a list are *assumed*. Correct them here, and only
here; the paths can also be overridden per deployment with DIALER_PATHS (validate_paths).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

# Every API path in one place. The guide documents /ivr, POST call-lists, POST campaigns
# and control; the list/detail/update paths are *assumed* conventional REST.
PATHS: dict[str, str] = {
    "ivr": "/ivr",
    "call_lists": "/dialer/call-lists",
    "call_list": "/dialer/call-lists/{id}",
    "campaigns": "/dialer/campaigns",
    "campaign": "/dialer/campaigns/{id}",
    "control": "/dialer/campaigns/{id}/control",
}

# *Assumed*: the call-list detail read (PATHS["call_list"]) carries the list's numbers, or
# its first ones, under one of these keys, shaped like the create body's
# `numbers: [{number, attributes}]`. A detail without them shows no entries.
CALL_LIST_ENTRIES: tuple[str, ...] = ("numbers", "entries")


# The campaign control vocabulary (guide, step 4) and the *assumed* state names, kept
# here, in one place, so they are easy to correct.
COMMANDS: tuple[str, ...] = ("start", "pause", "unpause", "reload", "remove")
STATES: tuple[str, ...] = ("stopped", "running", "paused")
# For the states the bot knows (by their canonical name), what the dialer is expected to
# accept: used only to say "nothing sent: it is already paused" before asking the dialer.
# A state not in this table offers every command, and the dialer decides (see allowed_for).
ALLOWED_COMMANDS: dict[str, tuple[str, ...]] = {
    "stopped": ("start", "remove"),
    "running": ("pause", "reload", "remove"),
    "wrong_time": ("pause", "reload", "remove"),
    "paused": ("unpause", "reload", "remove"),
    "completed": ("start", "remove"),
}


# Synonyms of the state names, compared case-insensitively: the bot's own name for each
# state the dialer may report. WombatDialer's run states are among them.
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


def allowed_for(raw_state: object) -> tuple[str, ...]:
    """Commands to offer for a state as the dialer reported it: the table's for a known
    state, every command for an unknown one (the dialer's 409 then says why not)."""
    known = canonical_state(raw_state)
    if known is None or known not in ALLOWED_COMMANDS:
        return COMMANDS
    return ALLOWED_COMMANDS[known]


# Where a list may sit when it is not a bare array: generic envelope keys first, then the
# resource's own name. Paging fields (total, page, limit, next, ...) are read, never required.
LIST_KEYS: tuple[str, ...] = ("data", "items", "results")
RESOURCE_KEYS: dict[str, tuple[str, ...]] = {
    "ivr": ("ivr", "ivrs", "applications"),
    "call_lists": ("callLists", "call_lists"),
    "campaigns": ("campaigns",),
}
# A paged list is followed up to this many pages (at the default page sizes, thousands of
# campaigns); beyond it the bot shows what it has and logs a warning.
MAX_PAGES = 50

_TEMPLATE_FIELD = re.compile(r"{([^}]*)}")


def validate_paths(value: str | Mapping[str, object] | None) -> dict[str, str]:
    """PATHS with a deployment's overrides (DIALER_PATHS, JSON) applied, or ValueError
    saying what to fix. Every path starts with "/"; those of one object carry "{id}"."""
    if value is None or value == "":
        return dict(PATHS)
    if isinstance(value, str):
        try:
            loaded = json.loads(value)
        except json.JSONDecodeError as exc:
            example = '{"campaigns": "/v2/campaigns"}'
            raise ValueError(f"not JSON ({exc.msg}); e.g. {example}") from None
    else:
        loaded = dict(value)
    if not isinstance(loaded, dict):
        raise ValueError("must be a JSON object of path names to paths")
    paths = dict(PATHS)
    for name, path in loaded.items():
        if name not in PATHS:
            raise ValueError(f"unknown path name {name!r}; known: {', '.join(PATHS)}")
        if not isinstance(path, str) or not path.startswith("/") or " " in path:
            raise ValueError(f"{name}: must be a path starting with /, got {path!r}")
        fields = _TEMPLATE_FIELD.findall(path)
        wanted = _TEMPLATE_FIELD.findall(PATHS[name])
        if fields != wanted:
            need = "exactly one {id}" if wanted else "no {...} placeholder"
            raise ValueError(f"{name}: {path!r} must contain {need}")
        paths[name] = path
    return paths
