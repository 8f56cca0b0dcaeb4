"""Strict request validation following the dialer guide's parameter table.

Every problem is reported as "<field path>: <what is wrong>" (e.g. "activePeriod.weekDays[2]:
must be an integer from 1 (Monday) to 7 (Sunday)") so that a client can map the message back to
a form field. The simulator is deliberately stricter than a lenient server would be: a bot that
passes it sends well-formed requests.
"""

from __future__ import annotations

import re
from typing import Any

from simulator.state import COMMANDS, SimulatorState

PHONE_RE = re.compile(r"\+?[0-9]{1,15}")
TIME_RE = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")
RESCHEDULE_STATUSES: tuple[str, ...] = (
    "RS_BUSY",
    "RS_NOANSWER",
    "RS_REJECTED",
    "RS_NUMBER",
    "RS_LOST",
    "RS_ERROR",
)
ENDPOINT_TYPES: tuple[str, ...] = ("phone", "queue")
MAX_NUMBERS = 1_000_000
MAX_NAME_LENGTH = 255

PHONE_MSG = "must be digits with an optional leading +, at most 15 digits"
CAMPAIGN_FIELDS = frozenset(
    {"name", "callerId", "activePeriod", "callLists", "rescheduleRules", "ivr", "endpoint"}
)
PERIOD_FIELDS = frozenset({"startTime", "endTime", "weekDays"})
RULE_FIELDS = frozenset({"status", "retryAfter", "maxAttempts"})
ENDPOINT_FIELDS = frozenset({"type", "boostFactor", "maxWaitingCalls", "queue"})
CALL_LIST_FIELDS = frozenset({"name", "numbers"})
NUMBER_FIELDS = frozenset({"number", "attributes"})


class ValidationError(Exception):
    """One or more field problems; str() is the first, `.errors` has them all."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors[0])
        self.errors = errors


def _is_int(value: Any) -> bool:
    # bool is a subclass of int, but `true` is not a valid id or count.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and value == value  # NaN is not


class _Collector:
    """Gathers field errors so the caller gets all of them at once."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, path: str, problem: str) -> None:
        self.errors.append(f"{path}: {problem}")

    def unknown(self, obj: dict[str, Any], allowed: frozenset[str], prefix: str) -> None:
        for key in obj:
            if key not in allowed:
                self.add(f"{prefix}{key}", "unknown field")

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _name(c: _Collector, body: dict[str, Any], path: str = "name") -> str | None:
    if "name" not in body:
        c.add(path, "is required")
        return None
    name = body["name"]
    if not isinstance(name, str):
        c.add(path, "must be a string")
    elif not name.strip():
        c.add(path, "must not be empty")
    elif len(name) > MAX_NAME_LENGTH:
        c.add(path, f"must be at most {MAX_NAME_LENGTH} characters")
    else:
        return name.strip()
    return None


def _positive_int(c: _Collector, obj: dict[str, Any], key: str, path: str) -> None:
    if key not in obj:
        c.add(path, "is required")
    elif not _is_int(obj[key]) or obj[key] < 1:
        c.add(path, "must be a positive integer")


def _active_period(c: _Collector, period: Any) -> dict[str, Any] | None:
    if not isinstance(period, dict):
        c.add("activePeriod", "must be an object with startTime, endTime and weekDays")
        return None
    c.unknown(period, PERIOD_FIELDS, "activePeriod.")
    for key in ("startTime", "endTime"):
        path = f"activePeriod.{key}"
        if key not in period:
            c.add(path, "is required")
        elif not isinstance(period[key], str) or not TIME_RE.fullmatch(period[key]):
            c.add(path, "must be a time HH:MM between 00:00 and 23:59")
    if "weekDays" not in period:
        c.add("activePeriod.weekDays", "is required")
    elif not isinstance(period["weekDays"], list):
        c.add("activePeriod.weekDays", "must be a list of integers 1 (Monday) to 7 (Sunday)")
    elif not period["weekDays"]:
        c.add("activePeriod.weekDays", "must contain at least one day")
    else:
        seen: set[int] = set()
        for i, day in enumerate(period["weekDays"]):
            path = f"activePeriod.weekDays[{i}]"
            if not _is_int(day) or not 1 <= day <= 7:
                c.add(path, "must be an integer from 1 (Monday) to 7 (Sunday)")
            elif day in seen:
                c.add(path, f"day {day} is listed twice")
            else:
                seen.add(day)
    return {k: period.get(k) for k in ("startTime", "endTime", "weekDays")}


def _call_lists(c: _Collector, value: Any, state: SimulatorState) -> None:
    if not isinstance(value, list):
        c.add("callLists", "must be a list of call list ids (integers)")
        return
    if not value:
        c.add("callLists", "must contain at least one call list id")
        return
    seen: set[int] = set()
    for i, list_id in enumerate(value):
        path = f"callLists[{i}]"
        if not _is_int(list_id):
            c.add(path, "must be an integer call list id")
        elif list_id in seen:
            c.add(path, f"call list {list_id} is listed twice")
        elif list_id not in state.call_lists:
            c.add(path, f"call list {list_id} does not exist")
        else:
            seen.add(list_id)


def _reschedule_rules(c: _Collector, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        c.add("rescheduleRules", "must be a list (use [] for no rules)")
        return []
    statuses: set[str] = set()
    for i, rule in enumerate(value):
        prefix = f"rescheduleRules[{i}]"
        if not isinstance(rule, dict):
            c.add(prefix, "must be an object with status, retryAfter and maxAttempts")
            continue
        c.unknown(rule, RULE_FIELDS, f"{prefix}.")
        status = rule.get("status")
        if "status" not in rule:
            c.add(f"{prefix}.status", "is required")
        elif status not in RESCHEDULE_STATUSES:
            c.add(f"{prefix}.status", f"must be one of {', '.join(RESCHEDULE_STATUSES)}")
        elif status in statuses:
            c.add(f"{prefix}.status", f"there is already a rule for {status}")
        else:
            statuses.add(status)
        _positive_int(c, rule, "retryAfter", f"{prefix}.retryAfter")
        _positive_int(c, rule, "maxAttempts", f"{prefix}.maxAttempts")
    return [dict(rule) for rule in value if isinstance(rule, dict)]


def _endpoint(c: _Collector, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        c.add("endpoint", "must be an object")
        return {}
    c.unknown(value, ENDPOINT_FIELDS, "endpoint.")
    ep_type = value.get("type", "phone")
    if ep_type not in ENDPOINT_TYPES:
        c.add("endpoint.type", "must be phone or queue")
    boost = value.get("boostFactor", 1)
    if not _is_number(boost) or boost <= 0:
        c.add("endpoint.boostFactor", "must be a number greater than 0")
    max_waiting = value.get("maxWaitingCalls", 2)
    if not _is_int(max_waiting) or max_waiting < 1:
        c.add("endpoint.maxWaitingCalls", "must be an integer of at least 1")
    queue = value.get("queue")
    if queue is not None and (not isinstance(queue, str) or not queue.strip()):
        c.add("endpoint.queue", "must be a non-empty string")
    elif queue is None and ep_type == "queue":
        c.add("endpoint.queue", "is required when endpoint.type is queue")
    result: dict[str, Any] = {
        "type": ep_type,
        "boostFactor": boost,
        "maxWaitingCalls": max_waiting,
    }
    if queue is not None:
        result["queue"] = queue
    return result


def validate_campaign(
    body: Any, state: SimulatorState, *, campaign_id: int | None = None
) -> dict[str, Any]:
    """Check a POST/PUT campaign body; returns it normalised with the guide's defaults."""
    if not isinstance(body, dict):
        raise ValidationError(["body: must be a JSON object"])
    c = _Collector()
    c.unknown(body, CAMPAIGN_FIELDS, "")
    name = _name(c, body)
    if name is not None and state.campaign_name_taken(name, exclude_id=campaign_id):
        c.add("name", f"a campaign named {name!r} already exists")

    if "callerId" not in body:
        c.add("callerId", "is required")
    elif not isinstance(body["callerId"], str) or not PHONE_RE.fullmatch(body["callerId"]):
        c.add("callerId", PHONE_MSG)

    period = None
    if "activePeriod" not in body:
        c.add("activePeriod", "is required")
    else:
        period = _active_period(c, body["activePeriod"])

    if "callLists" not in body:
        c.add("callLists", "is required")
    else:
        _call_lists(c, body["callLists"], state)

    rules = _reschedule_rules(c, body["rescheduleRules"]) if "rescheduleRules" in body else []

    if "ivr" not in body:
        c.add("ivr", "is required")
    elif not isinstance(body["ivr"], str) or not body["ivr"]:
        c.add("ivr", "must be an IVR application id (a string)")
    elif body["ivr"] not in state.ivr:
        c.add("ivr", f"IVR application {body['ivr']!r} does not exist")

    endpoint = _endpoint(c, body["endpoint"]) if "endpoint" in body else _endpoint(c, {})
    c.raise_if_any()
    return {
        "name": name,
        "callerId": body["callerId"],
        "activePeriod": period,
        "callLists": list(body["callLists"]),
        "rescheduleRules": rules,
        "ivr": body["ivr"],
        "endpoint": endpoint,
    }


def validate_call_list(body: Any) -> tuple[str, list[dict[str, Any]]]:
    """Check a POST call-list body; returns (name, numbers)."""
    if not isinstance(body, dict):
        raise ValidationError(["body: must be a JSON object"])
    c = _Collector()
    c.unknown(body, CALL_LIST_FIELDS, "")
    name = _name(c, body)
    numbers = body.get("numbers")
    if "numbers" not in body:
        c.add("numbers", "is required")
    elif not isinstance(numbers, list):
        c.add("numbers", "must be a list of {number, attributes} objects")
    elif not numbers:
        c.add("numbers", "must contain at least one number")
    elif len(numbers) > MAX_NUMBERS:
        c.add("numbers", f"at most {MAX_NUMBERS} numbers per call list, got {len(numbers)}")
    else:
        for i, item in enumerate(numbers):
            # Stop after a screenful: a million-row mistake needs no million-line answer.
            if len(c.errors) >= 20:
                break
            prefix = f"numbers[{i}]"
            if not isinstance(item, dict):
                c.add(prefix, "must be an object with number and attributes")
                continue
            if item.keys() - NUMBER_FIELDS:
                c.unknown(item, NUMBER_FIELDS, f"{prefix}.")
            number = item.get("number")
            if number is None:
                c.add(f"{prefix}.number", "is required")
            elif not isinstance(number, str) or not PHONE_RE.fullmatch(number):
                c.add(f"{prefix}.number", PHONE_MSG)
            if "attributes" not in item:
                c.add(f"{prefix}.attributes", "is required (use [] for none)")
            elif not isinstance(item["attributes"], list):
                c.add(f"{prefix}.attributes", "must be a list")
    c.raise_if_any()
    assert name is not None and isinstance(numbers, list)
    return name, numbers


def validate_command(body: Any) -> str:
    """Check a control body {command}; unknown commands are a 400, not a 409."""
    if not isinstance(body, dict):
        raise ValidationError(["body: must be a JSON object"])
    c = _Collector()
    c.unknown(body, frozenset({"command"}), "")
    command = body.get("command")
    if "command" not in body:
        c.add("command", "is required")
    elif command not in COMMANDS:
        c.add("command", f"must be one of {', '.join(COMMANDS)}")
    c.raise_if_any()
    return command
