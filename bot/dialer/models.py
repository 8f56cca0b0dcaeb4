"""Typed results and the error type of the Voipex dialer API client.

The API answers loosely specified JSON; these frozen dataclasses give the rest of
the bot stable attribute names and keep the original dict in ``.raw`` for
anything not modelled (``unmodelled()`` names those fields). ``from_api`` needs only an
``id``: any other field may be missing or oddly typed without breaking a listing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bot.dialer.api import CALL_LIST_ENTRIES, allowed_for, canonical_state

# Endpoint defaults from the guide's parameter table.
DEFAULT_ENDPOINT_TYPE = "phone"
DEFAULT_BOOST_FACTOR = 1.0
DEFAULT_MAX_WAITING_CALLS = 2

# foreign: a 2xx answer that is not the dialer's (an HTML page from a proxy in between).
ErrorKind = Literal["http", "timeout", "connection", "foreign"]


class DialerError(Exception):
    """A dialer call failed; carries enough to tell a person what happened.

    ``sent`` matters for control commands: False means the dialer certainly did
    not act (safe to try again), None means it may have (check before retrying),
    True means the dialer answered (with an error).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        kind: ErrorKind = "http",
        sent: bool | None = None,
        fields: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        # (property path, problem) pairs when the dialer named fields, e.g.
        # ("activePeriod.startTime", "must be HH:MM"): a form can show each under its field.
        self.fields = fields
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.kind = kind
        self.sent = sent

    def __str__(self) -> str:
        target = f"{self.method} {self.path}" if self.method and self.path else "the request"
        if self.kind == "http" and self.status is not None:
            return f"The dialer answered {self.status} to {target}: {self.message}"
        if self.kind == "timeout":
            return f"The dialer did not answer {target} in time: {self.message}"
        if self.kind == "foreign":
            return f"Something other than the dialer answered {target}: {self.message}"
        return f"The dialer could not be reached for {target}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"DialerError(kind={self.kind!r}, status={self.status!r}, method={self.method!r}, "
            f"path={self.path!r}, sent={self.sent!r}, message={self.message!r})"
        )


def _raw() -> Any:
    """A ``.raw`` field: kept for callers, but not compared, hashed or printed."""
    return field(default_factory=dict, compare=False, repr=False)


def _opt_int(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def _ints(values: Any) -> tuple[int, ...]:
    """Ids or numbers from a list; objects count by their ``id``; the rest is skipped."""
    if not isinstance(values, list | tuple):
        return ()
    found = (_opt_int(v.get("id") if isinstance(v, dict) else v) for v in values)
    return tuple(v for v in found if v is not None)


def _text(value: Any) -> str | None:
    return None if value is None or isinstance(value, dict | list) else str(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _unmodelled(raw: dict[str, Any], known: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(k for k in raw if k not in known))


@dataclass(frozen=True)
class Routing:
    """One extension/DDI routed to an IVR application."""

    exten: str | None
    ddi: str | None

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> Routing:
        return cls(exten=d.get("exten"), ddi=d.get("ddi"))


@dataclass(frozen=True)
class IvrApp:
    """An IVR application a campaign sends answered calls to (GET /ivr)."""

    id: str
    name: str
    description: str = ""
    created_at: str | None = None
    updated_at: str | None = None
    created_by: str | None = None
    updated_by: str | None = None
    routing: tuple[Routing, ...] = ()
    raw: dict[str, Any] = _raw()

    FIELDS = frozenset(
        {"id", "name", "description", "createdAt", "updatedAt", "createdBy", "updatedBy", "routing"}
    )

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> IvrApp:
        routing = d.get("routing") if isinstance(d.get("routing"), list) else []
        return cls(
            id=str(d["id"]),
            name=_text(d.get("name")) or "",
            description=_text(d.get("description")) or "",
            created_at=_text(d.get("createdAt")),
            updated_at=_text(d.get("updatedAt")),
            created_by=_text(_dict(d.get("createdBy")).get("email")),
            updated_by=_text(_dict(d.get("updatedBy")).get("email")),
            routing=tuple(Routing.from_api(r) for r in routing if isinstance(r, dict)),
            raw=d,
        )

    def unmodelled(self) -> tuple[str, ...]:
        return _unmodelled(self.raw, self.FIELDS)


@dataclass(frozen=True)
class CallListEntry:
    """One number of a call list with its attributes (name, value), as the detail read gives
    them. Phone numbers are personal data: shown masked unless the role allows more."""

    number: str
    attributes: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_api(cls, d: Any) -> CallListEntry:
        if not isinstance(d, dict):  # a bare number
            return cls(number=str(d))
        return cls(number=_text(d.get("number")) or "", attributes=_attributes(d.get("attributes")))


def _attributes(raw: Any) -> tuple[tuple[str, str], ...]:
    """``[{"name", "value"}]`` (what the bot sends), a plain object, or bare values."""
    if isinstance(raw, dict):
        return tuple((str(k), str(v)) for k, v in raw.items())
    out: list[tuple[str, str]] = []
    for i, item in enumerate(raw if isinstance(raw, list) else ()):
        if isinstance(item, dict) and "name" in item:
            out.append((str(item["name"]), str(item.get("value", ""))))
        else:
            out.append((str(i + 1), str(item)))
    return tuple(out)


@dataclass(frozen=True)
class CallList:
    """A list of numbers to dial. Listings carry no numbers; the detail read may carry
    the first ones (``entries``; the field is assumed: CALL_LIST_ENTRIES in api.py)."""

    id: int
    name: str
    numbers_count: int | None = None
    created_at: str | None = None
    entries: tuple[CallListEntry, ...] = ()
    raw: dict[str, Any] = _raw()

    FIELDS = frozenset({"id", "name", "numbersCount", "createdAt", *CALL_LIST_ENTRIES})

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> CallList:
        entries = next(
            (d[k] for k in CALL_LIST_ENTRIES if isinstance(d.get(k), list)),
            (),
        )
        return cls(
            id=int(d["id"]),
            name=_text(d.get("name")) or "",
            numbers_count=_opt_int(d.get("numbersCount")),
            created_at=_text(d.get("createdAt")),
            entries=tuple(CallListEntry.from_api(e) for e in entries),
            raw=d,
        )

    def unmodelled(self) -> tuple[str, ...]:
        return _unmodelled(self.raw, self.FIELDS)


@dataclass(frozen=True)
class RescheduleRule:
    """Retry calls that ended with ``status`` after ``retry_after`` seconds."""

    status: str
    retry_after: int
    max_attempts: int

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> RescheduleRule:
        return cls(
            status=_text(d.get("status")) or "",
            retry_after=_opt_int(d.get("retryAfter")) or 0,
            max_attempts=_opt_int(d.get("maxAttempts")) or 0,
        )


@dataclass(frozen=True)
class Endpoint:
    """Where answered calls go; defaults are the guide's."""

    type: str = DEFAULT_ENDPOINT_TYPE
    boost_factor: float = DEFAULT_BOOST_FACTOR
    max_waiting_calls: int = DEFAULT_MAX_WAITING_CALLS
    queue: str | None = None

    @classmethod
    def from_api(cls, d: dict[str, Any] | None) -> Endpoint:
        d = _dict(d)
        try:
            boost = float(d["boostFactor"])
        except (KeyError, TypeError, ValueError):
            boost = DEFAULT_BOOST_FACTOR
        waiting = _opt_int(d.get("maxWaitingCalls"))
        return cls(
            type=_text(d.get("type")) or DEFAULT_ENDPOINT_TYPE,
            boost_factor=boost,
            max_waiting_calls=DEFAULT_MAX_WAITING_CALLS if waiting is None else waiting,
            queue=_text(d.get("queue")) or None,
        )


@dataclass(frozen=True)
class Campaign:
    """A dialer campaign as GET /dialer/campaigns[/id] returns it."""

    id: int
    name: str
    caller_id: str = ""
    start_time: str | None = None
    end_time: str | None = None
    week_days: tuple[int, ...] = ()
    call_lists: tuple[int, ...] = ()
    reschedule_rules: tuple[RescheduleRule, ...] = ()
    ivr: str | None = None
    endpoint: Endpoint = field(default_factory=Endpoint)
    state: str = "unknown"
    raw: dict[str, Any] = _raw()

    FIELDS = frozenset(
        {
            "id",
            "name",
            "callerId",
            "activePeriod",
            "callLists",
            "rescheduleRules",
            "ivr",
            "endpoint",
            "state",
        }
    )

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> Campaign:
        period = _dict(d.get("activePeriod"))
        rules = d.get("rescheduleRules") if isinstance(d.get("rescheduleRules"), list) else []
        ivr = d.get("ivr")
        if isinstance(ivr, dict):  # {"ivr": {"id": "...", "name": "..."}}
            ivr = ivr.get("id")
        state = d.get("state")
        if isinstance(state, dict):
            state = state.get("name") or state.get("value")
        return cls(
            id=int(d["id"]),
            name=_text(d.get("name")) or "",
            caller_id=_text(d.get("callerId")) or "",
            start_time=_text(period.get("startTime")),
            end_time=_text(period.get("endTime")),
            week_days=_ints(period.get("weekDays")),
            call_lists=_ints(d.get("callLists")),
            reschedule_rules=tuple(
                RescheduleRule.from_api(r) for r in rules if isinstance(r, dict)
            ),
            ivr=_text(ivr),
            endpoint=Endpoint.from_api(d.get("endpoint")),
            state=_text(state) or "unknown",
            raw=d,
        )

    @property
    def known_state(self) -> str | None:
        """The bot's name for the state (api.STATE_SYNONYMS), or None when it does not know it."""
        return canonical_state(self.state)

    @property
    def allowed_commands(self) -> tuple[str, ...]:
        """Commands to offer: the table's for a known state, all of them for an unknown one
        (the dialer decides then), so a pause is never refused over a state we cannot read."""
        return allowed_for(self.state)

    def unmodelled(self) -> tuple[str, ...]:
        return _unmodelled(self.raw, self.FIELDS)


@dataclass(frozen=True)
class CreateResult:
    """Answer to a create or update: the id (found by the client if the answer lacked it)
    and the dialer's message, if any."""

    id: int
    message: str = ""
    numbers_count: int | None = None
    raw: dict[str, Any] = _raw()


@dataclass(frozen=True)
class ControlResult:
    """A control command the dialer accepted (any 2xx).

    ``state`` is the dialer's own name for the new state, from the answer or from reading
    the campaign again; None when neither told it (``state_note`` then says why); "removed"
    after remove.
    """

    id: int
    message: str = ""
    state: str | None = None
    state_note: str = ""
    raw: Any = _raw()

    @property
    def known_state(self) -> str | None:
        return canonical_state(self.state)
