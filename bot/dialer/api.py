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


# ---- outcomes: what an answer says about a command ----------------------------------

# Statuses that come from a gateway in front of the dialer rather than the dialer itself:
# the command may have been carried out before the gateway gave up, so the outcome is
# `unknown` until a re-read of the campaign settles it (bot/control.py).
GATEWAY_STATUSES: frozenset[int] = frozenset({502, 503, 504})

# *Assumed* 2xx bodies the dialer itself sends: JSON, nothing (204), or a short plain text
# ("OK"). Anything else (an HTML page, a single sign-on login form, a long text) came from
# something in between, and the request may never have reached the dialer.
PLAIN_TEXT_MAX = 200


def foreign_body(content_type: str, text: str) -> str | None:
    """Why a 2xx body is not the dialer's own answer (a short phrase), or None when it is."""
    kind = content_type.split(";")[0].strip().lower()
    start = text.lstrip()[:15].lower()
    if "html" in kind or start.startswith(("<!doctype", "<html", "<?xml")):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        named = " ".join(title.group(1).split())[:80] if title else ""
        return f"an HTML page ({named})" if named else "an HTML page"
    stripped = text.strip()
    if not stripped or kind.endswith("json") or stripped[:1] in "{[":
        return None
    if len(stripped) > PLAIN_TEXT_MAX or "\n" in stripped:
        return f"a {len(stripped)}-character text that is not the dialer's"
    return None


# *Assumed*: the state (the bot's name, see canonical_state) that shows a command took
# effect. None means nothing the dialer reports can show it (a reload): such a command
# stays as the dialer answered it. A remove took effect when the campaign is gone (404).
EFFECT_STATES: dict[str, frozenset[str] | None] = {
    "start": RUNNING_STATES,
    "unpause": RUNNING_STATES,
    "pause": frozenset({"paused"}),
    "remove": frozenset({"gone"}),
    "reload": None,
}


def took_effect(command: str, raw_state: object, *, gone: bool = False) -> bool | None:
    """True when the state shows ``command`` took effect, False when it shows it did not
    (a known state other than the effect; gone, for anything but remove), None when the
    state cannot tell (an unknown state name, or a command no state shows)."""
    wanted = EFFECT_STATES.get(command)
    if wanted is None:
        return None
    state = "gone" if gone else canonical_state(raw_state)
    if state is None:
        return None
    return state in wanted
