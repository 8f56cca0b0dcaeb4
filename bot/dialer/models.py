"""Typed results and the error type of the Voipex dialer API client.

The API answers loosely specified JSON; these frozen dataclasses give the rest of
the bot stable attribute names and keep the original dict in ``.raw`` for
anything not modelled. ``from_api`` tolerates missing optional fields so that a
dialer upgrade adding or dropping a field does not break listing campaigns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bot.dialer.api import ALLOWED_COMMANDS

# Endpoint defaults from the guide's parameter table.
DEFAULT_ENDPOINT_TYPE = "phone"
DEFAULT_BOOST_FACTOR = 1.0
DEFAULT_MAX_WAITING_CALLS = 2

ErrorKind = Literal["http", "timeout", "connection"]


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
    ) -> None:
        super().__init__(message)
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
    return None if value is None else int(value)


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

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> IvrApp:
        return cls(
            id=str(d["id"]),
            name=d.get("name") or "",
            description=d.get("description") or "",
            created_at=d.get("createdAt"),
            updated_at=d.get("updatedAt"),
            created_by=(d.get("createdBy") or {}).get("email"),
            updated_by=(d.get("updatedBy") or {}).get("email"),
            routing=tuple(Routing.from_api(r) for r in d.get("routing") or ()),
            raw=d,
        )


@dataclass(frozen=True)
class CallList:
    """A list of numbers to dial; the API never returns the numbers themselves."""

    id: int
    name: str
    numbers_count: int | None = None
    created_at: str | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> CallList:
        return cls(
            id=int(d["id"]),
            name=d.get("name") or "",
            numbers_count=_opt_int(d.get("numbersCount")),
            created_at=d.get("createdAt"),
            raw=d,
        )


@dataclass(frozen=True)
class RescheduleRule:
    """Retry calls that ended with ``status`` after ``retry_after`` seconds."""

    status: str
    retry_after: int
    max_attempts: int

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> RescheduleRule:
        return cls(
            status=str(d.get("status") or ""),
            retry_after=int(d.get("retryAfter") or 0),
            max_attempts=int(d.get("maxAttempts") or 0),
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
        d = d or {}
        boost = d.get("boostFactor")
        waiting = d.get("maxWaitingCalls")
        return cls(
            type=d.get("type") or DEFAULT_ENDPOINT_TYPE,
            boost_factor=DEFAULT_BOOST_FACTOR if boost is None else float(boost),
            max_waiting_calls=DEFAULT_MAX_WAITING_CALLS if waiting is None else int(waiting),
            queue=d.get("queue") or None,
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

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> Campaign:
        period = d.get("activePeriod") or {}
        return cls(
            id=int(d["id"]),
            name=d.get("name") or "",
            caller_id=str(d.get("callerId") or ""),
            start_time=period.get("startTime"),
            end_time=period.get("endTime"),
            week_days=tuple(int(x) for x in period.get("weekDays") or ()),
            call_lists=tuple(int(x) for x in d.get("callLists") or ()),
            reschedule_rules=tuple(
                RescheduleRule.from_api(r) for r in d.get("rescheduleRules") or ()
            ),
            ivr=d.get("ivr"),
            endpoint=Endpoint.from_api(d.get("endpoint")),
            state=d.get("state") or "unknown",
            raw=d,
        )

    @property
    def allowed_commands(self) -> tuple[str, ...]:
        """Commands the dialer accepts in the current state (empty if the state is unknown)."""
        return ALLOWED_COMMANDS.get(self.state, ())


@dataclass(frozen=True)
class CreateResult:
    """Answer to a create or update: the id and the dialer's message."""

    id: int
    message: str = ""
    numbers_count: int | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> CreateResult:
        return cls(
            id=int(d["id"]),
            message=d.get("message") or "",
            numbers_count=_opt_int(d.get("numbersCount")),
            raw=d,
        )


@dataclass(frozen=True)
class ControlResult:
    """Answer to a control command; ``state`` is "removed" after remove."""

    id: int
    message: str = ""
    state: str | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> ControlResult:
        return cls(
            id=int(d["id"]),
            message=d.get("message") or "",
            state=d.get("state"),
            raw=d,
        )
