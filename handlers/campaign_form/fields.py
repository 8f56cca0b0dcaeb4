"""The campaign form's fields: block ids, reading a view's state, validation and the payload.

Pure functions, no I/O: everything here runs before the view_submission ack. The payload
follows the dialer guide's parameter table exactly (callLists and weekDays integers, ivr the
string id, rescheduleRules [] when there are none). Errors are {block_id: message}, the shape
`ack(response_action="errors")` takes, so every message lands under its own field.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from bot.dialer import Campaign
from bot.find import positive_int
from bot.numbers import normalize_number
from handlers.payload import read_metadata

# ---- block ids (the view builder and the parser share them) --------------------------------
NAME = "name"
CALLER_ID = "caller_id"
START = "start_time"
END = "end_time"
OVERNIGHT = "overnight"
WEEK_DAYS = "week_days"
CALL_LISTS = "call_lists"
IVR = "ivr"
ENDPOINT_TYPE = "endpoint_type"
QUEUE = "queue"
BOOST = "boost"
MAX_WAITING = "max_waiting"

MAX_RULES = 5
MAX_NAME = 255  # the simulator's limit; the guide gives none
MAX_TEXT = 255
MAX_INT = 10**9

# Call results a reschedule rule can apply to (WombatDialer's RS_* results;
# *assumed* for Voipex: kept here, in one place, so that it is easy to correct).
RESCHEDULE_STATUSES: dict[str, str] = {
    "RS_BUSY": "Busy",
    "RS_NOANSWER": "No answer",
    "RS_REJECTED": "Rejected / congestion",
    "RS_NUMBER": "Invalid number",
    "RS_LOST": "Answered, no agent free",
    "RS_ERROR": "System error",
}
ENDPOINT_TYPES: dict[str, str] = {"phone": "Phone (default)", "queue": "Queue"}
DEFAULT_BOOST = "1"
DEFAULT_MAX_WAITING = "2"

CALLER_ID_RE = re.compile(r"\+?[0-9]{1,15}")
_CALLER_ID_SEPARATORS = re.compile(r"[\s().\-/]")
TIME_RE = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")


def rule_block(row: int, part: str) -> str:
    """Block id of one reschedule rule field; part is status, retry or attempts."""
    return f"rule{row}_{part}"


Choice = tuple[str, str]  # (value, label) of a selected option, kept to show it again


@dataclass
class RuleValues:
    status: str | None = None
    retry: str | None = None
    attempts: str | None = None

    def empty(self) -> bool:
        return not (self.status or (self.retry or "").strip() or (self.attempts or "").strip())


@dataclass
class FormValues:
    """What the form shows or what the user typed, as strings: rebuilding a view from it
    keeps every value, valid or not."""

    name: str | None = None
    caller_id: str | None = None
    start: str | None = None
    end: str | None = None
    overnight: bool = False
    week_days: list[int] = field(default_factory=list)
    call_lists: list[Choice] = field(default_factory=list)
    ivr: Choice | None = None
    rules: list[RuleValues] = field(default_factory=lambda: [RuleValues()])
    endpoint_type: str = "phone"
    queue: str | None = None
    boost: str | None = DEFAULT_BOOST
    max_waiting: str | None = DEFAULT_MAX_WAITING


@dataclass
class Parsed:
    """A valid payload, or the errors; rule_rows[i] is the form row of rescheduleRules[i]."""

    payload: dict[str, Any] | None
    errors: dict[str, str]
    rule_rows: list[int]


# ---- reading Slack's view state ----------------------------------------------------------


def _element(state: dict[str, Any], block: str) -> dict[str, Any]:
    """The one element state of an input block, whatever its action_id."""
    actions = state.get(block)
    if not isinstance(actions, dict):
        return {}
    for value in actions.values():
        if isinstance(value, dict):
            return value
    return {}


def _text(state: dict[str, Any], block: str) -> str | None:
    value = _element(state, block).get("value")
    return value if isinstance(value, str) else None


def _option(opt: Any) -> Choice | None:
    if not isinstance(opt, dict) or not isinstance(opt.get("value"), str):
        return None
    text = opt.get("text")
    label = text.get("text") if isinstance(text, dict) else None
    return opt["value"], label if isinstance(label, str) else opt["value"]


def _selected(state: dict[str, Any], block: str) -> Choice | None:
    return _option(_element(state, block).get("selected_option"))


def _multi(state: dict[str, Any], block: str) -> list[Choice]:
    opts = _element(state, block).get("selected_options")
    if not isinstance(opts, list):
        return []
    return [c for c in (_option(o) for o in opts) if c is not None]


def read_values(state: dict[str, Any], rule_rows: int) -> FormValues:
    """Everything the user entered, as typed (Slack sends None for an empty field)."""
    state = state if isinstance(state, dict) else {}
    start = _element(state, START).get("selected_time")
    end = _element(state, END).get("selected_time")
    days = [d for v, _ in _multi(state, WEEK_DAYS) if (d := positive_int(v, max_value=7))]
    endpoint = _selected(state, ENDPOINT_TYPE)
    return FormValues(
        name=_text(state, NAME),
        caller_id=_text(state, CALLER_ID),
        start=start if isinstance(start, str) else None,
        end=end if isinstance(end, str) else None,
        overnight=bool(_multi(state, OVERNIGHT)),
        week_days=sorted(set(days)),
        call_lists=_multi(state, CALL_LISTS),
        ivr=_selected(state, IVR),
        rules=[
            RuleValues(
                status=(_selected(state, rule_block(i, "status")) or (None, None))[0],
                retry=_text(state, rule_block(i, "retry")),
                attempts=_text(state, rule_block(i, "attempts")),
            )
            for i in range(max(0, min(rule_rows, MAX_ROWS)))
        ],
        endpoint_type=endpoint[0] if endpoint else "phone",
        queue=_text(state, QUEUE),
        boost=_text(state, BOOST),
        max_waiting=_text(state, MAX_WAITING),
    )


def values_from_campaign(
    c: Campaign, list_names: dict[int, str], ivr_names: dict[str, str]
) -> FormValues:
    """The edit form starts from the campaign as the dialer has it."""
    start, end = c.start_time or None, c.end_time or None
    return FormValues(
        name=c.name,
        caller_id=c.caller_id,
        start=start,
        end=end,
        overnight=bool(start and end and start > end),
        week_days=sorted(set(c.week_days)),
        call_lists=[(str(i), list_names.get(i, f"#{i}")) for i in c.call_lists],
        ivr=(c.ivr, ivr_names.get(c.ivr, c.ivr)) if c.ivr else None,
        rules=[
            RuleValues(r.status, str(r.retry_after), str(r.max_attempts))
            for r in c.reschedule_rules
        ]
        or [RuleValues()],
        endpoint_type=c.endpoint.type if c.endpoint.type in ENDPOINT_TYPES else "phone",
        queue=c.endpoint.queue,
        boost=f"{c.endpoint.boost_factor:g}",
        max_waiting=str(c.endpoint.max_waiting_calls),
    )


# ---- validation and the payload ------------------------------------------------------------


def _positive_int(raw: str | None) -> int | None:
    return positive_int(raw or "", max_value=MAX_INT)


def _required_text(
    errors: dict[str, str], block: str, raw: str | None, what: str, limit: int = MAX_TEXT
) -> str | None:
    value = (raw or "").strip()
    if not value:
        errors[block] = f"Enter {what}."
    elif len(value) > limit:
        errors[block] = f"At most {limit} characters."
    else:
        return value
    return None


def _period(v: FormValues, errors: dict[str, str]) -> dict[str, Any]:
    for block, raw, which in ((START, v.start, "a start time"), (END, v.end, "an end time")):
        if not raw:
            errors[block] = f"Choose {which}."
        elif not TIME_RE.fullmatch(raw):
            errors[block] = "Use a time as HH:MM, e.g. 09:00."
    if START not in errors and END not in errors:
        assert v.start is not None and v.end is not None
        if v.start == v.end:
            errors[END] = "The end must differ from the start."
        elif v.start > v.end and not v.overnight:
            errors[END] = (
                f"The end ({v.end}) is before the start ({v.start}). For a window past "
                "midnight tick “Runs overnight”."
            )
    if not v.week_days:
        errors[WEEK_DAYS] = "Choose at least one day."
    return {"startTime": v.start, "endTime": v.end, "weekDays": sorted(set(v.week_days))}


def _rules(v: FormValues, errors: dict[str, str]) -> tuple[list[dict[str, Any]], list[int]]:
    rules: list[dict[str, Any]] = []
    rows: list[int] = []
    seen: dict[str, int] = {}
    for row, rule in enumerate(v.rules):
        if rule.empty():
            continue  # an untouched row is no rule: the guide allows none at all
        status_block = rule_block(row, "status")
        if rule.status not in RESCHEDULE_STATUSES:
            errors[status_block] = "Choose the call result this rule applies to."
        elif rule.status in seen:
            errors[status_block] = f"Rule {seen[rule.status] + 1} already covers this result."
        else:
            seen[rule.status] = row
        retry = _positive_int(rule.retry)
        if retry is None:
            errors[rule_block(row, "retry")] = "Enter a whole number of seconds, at least 1."
        attempts = _positive_int(rule.attempts)
        if attempts is None:
            errors[rule_block(row, "attempts")] = "Enter a whole number, at least 1."
        rules.append({"status": rule.status, "retryAfter": retry, "maxAttempts": attempts})
        rows.append(row)
    return rules, rows


def _endpoint(v: FormValues, errors: dict[str, str]) -> dict[str, Any]:
    """Queue fields count only for a queue endpoint; a phone endpoint sends the type alone
    (the guide's defaults apply to the rest)."""
    if v.endpoint_type not in ENDPOINT_TYPES:
        errors[ENDPOINT_TYPE] = "Choose phone or queue."
        return {}
    if v.endpoint_type == "phone":
        return {"type": "phone"}
    queue = _required_text(errors, QUEUE, v.queue, "the queue to observe")
    boost_raw = (v.boost or "").strip() or DEFAULT_BOOST
    try:
        boost = float(boost_raw)
    except ValueError:
        boost = math.nan
    if not math.isfinite(boost) or boost <= 0 or boost > 1000:
        errors[BOOST] = "Enter a number greater than 0, e.g. 1 or 1.5."
    waiting = _positive_int((v.max_waiting or "").strip() or DEFAULT_MAX_WAITING)
    if waiting is None:
        errors[MAX_WAITING] = "Enter a whole number, at least 1."
    return {"type": "queue", "boostFactor": boost, "maxWaitingCalls": waiting, "queue": queue}


def caller_id_digits(raw: str, region: str | None) -> str | None:
    """The caller ID as the dialer takes it: digits only, as in the guide's example.

    Written like a call-list number (``+420 222 000 800``, ``00420…``, a national number
    with DEFAULT_REGION), it is normalised the same way; plain digits pass as they are.
    """
    e164, _ = normalize_number(raw, region)
    if e164 is not None:
        return e164.lstrip("+")
    compact = _CALLER_ID_SEPARATORS.sub("", raw)
    return compact.lstrip("+") if CALLER_ID_RE.fullmatch(compact) else None


def validate(v: FormValues, region: str | None = None) -> Parsed:
    """Every check that needs no I/O; the payload only when there is no error."""
    errors: dict[str, str] = {}
    name = _required_text(errors, NAME, v.name, "a name", MAX_NAME)
    typed = (v.caller_id or "").strip()
    caller_id = caller_id_digits(typed, region) if typed else None
    if not typed:
        errors[CALLER_ID] = "Enter the number calls come from."
    elif caller_id is None:
        errors[CALLER_ID] = (
            "Digits with an optional leading + (or 00), at most 15 digits, e.g. +420 222 000 800."
        )
    period = _period(v, errors)
    call_lists = [i for c, _ in v.call_lists if (i := positive_int(c))]
    if not call_lists or len(call_lists) != len(v.call_lists):
        errors[CALL_LISTS] = "Choose at least one call list."
    ivr = v.ivr[0] if v.ivr else ""
    if not ivr or len(ivr) > MAX_TEXT:
        errors[IVR] = "Choose the IVR application answered calls go to."
    rules, rows = _rules(v, errors)
    endpoint = _endpoint(v, errors)
    if errors:
        return Parsed(None, errors, rows)
    payload = {
        "name": name,
        "callerId": caller_id,
        "activePeriod": period,
        "callLists": list(dict.fromkeys(call_lists)),
        "rescheduleRules": rules,
        "ivr": ivr,
        "endpoint": endpoint,
    }
    return Parsed(payload, {}, rows)


def name_taken(name: str, existing: list[tuple[int, str]], exclude_id: int | None) -> bool:
    """Names are compared case-insensitively, as the dialer does; an edit may keep its own."""
    folded = name.strip().casefold()
    return any(n.strip().casefold() == folded and cid != exclude_id for cid, n in existing)


# ---- dialer 400 → field -----------------------------------------------------------------

_FIELD_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.\[\]]*)\s*:\s*(.+)$", re.S)
_RULE_RE = re.compile(r"^rescheduleRules\[(\d+)\](?:\.(\w+))?")
_FIELD_BLOCKS: dict[str, str] = {
    "name": NAME,
    "callerId": CALLER_ID,
    "activePeriod.startTime": START,
    "activePeriod.endTime": END,
    "activePeriod.weekDays": WEEK_DAYS,
    "callLists": CALL_LISTS,
    "ivr": IVR,
    "endpoint.type": ENDPOINT_TYPE,
    "endpoint.queue": QUEUE,
    "endpoint.boostFactor": BOOST,
    "endpoint.maxWaitingCalls": MAX_WAITING,
}
_RULE_PARTS = {"status": "status", "retryAfter": "retry", "maxAttempts": "attempts"}


def block_for_dialer_error(message: str, rule_rows: list[int]) -> tuple[str | None, str]:
    """Map "callerId: must be …" onto (block id, what is wrong); (None, message) when the
    message names no field of the form (it is then shown at the top of the modal)."""
    m = _FIELD_RE.match(message or "")
    if not m:
        return None, message
    path, problem = m.group(1), m.group(2).strip()
    rule = _RULE_RE.match(path)
    if rule:
        index, part = int(rule.group(1)), _RULE_PARTS.get(rule.group(2) or "", "status")
        if index < len(rule_rows):
            return rule_block(rule_rows[index], part), problem
        return None, message
    base = re.sub(r"\[\d+\]", "", path)
    block = _FIELD_BLOCKS.get(base)
    return (block, problem) if block else (None, message)


# ---- private_metadata -------------------------------------------------------------------


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**12


MAX_ROWS = 20  # a campaign made elsewhere may carry more than MAX_RULES rules: show them all
CHANNEL_RE = re.compile(r"[CGD][A-Z0-9]{2,30}")


@dataclass(frozen=True)
class FormMeta:
    """What the modal remembers between requests (private_metadata, JSON, ≤ 3,000 chars).

    Slack hands it back on every submission and click, so it is parsed as untrusted input:
    wrong types, unknown modes or ids that are not positive integers reject the whole thing.
    """

    mode: str  # "create" | "edit"
    campaign_id: int | None
    channel_id: str | None
    rules: int
    source: int | None = None  # a create filled from this campaign (`/dialer clone`)

    def dump(self) -> str:
        data: dict[str, Any] = {
            "mode": self.mode,
            "campaign_id": self.campaign_id,
            "channel_id": self.channel_id,
            "rules": self.rules,
        }
        if self.source is not None:
            data["source"] = self.source
        return json.dumps(data, separators=(",", ":"))

    def with_rules(self, rules: int) -> FormMeta:
        return FormMeta(self.mode, self.campaign_id, self.channel_id, rules, self.source)

    @classmethod
    def load(cls, raw: Any) -> FormMeta | None:
        data = read_metadata(raw)
        if data is None:
            return None
        mode, cid = data.get("mode"), data.get("campaign_id")
        channel, rules = data.get("channel_id"), data.get("rules")
        if mode not in ("create", "edit"):
            return None
        if mode == "edit" and not _is_id(cid):
            return None
        if mode == "create" and cid is not None:
            return None
        if channel is not None and not (isinstance(channel, str) and CHANNEL_RE.fullmatch(channel)):
            return None
        if not (isinstance(rules, int) and not isinstance(rules, bool) and 0 <= rules <= MAX_ROWS):
            return None
        source = data.get("source")
        if source is not None and not (mode == "create" and _is_id(source)):
            return None
        return cls(mode, cid, channel, rules, source)
