"""Fault injection: make the simulated dialer slow, failing or dropping connections on demand.

Faults target the dialer API. With no path_prefix they skip the token endpoint, because in
production the token comes from a separate auth host; pass path_prefix="/token" to break that.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class FaultConfigError(ValueError):
    """Invalid fault settings (the admin endpoint answers 400)."""


@dataclass
class FaultPlan:
    """What happens to a matching request, decided before the handler runs."""

    latency: float = 0.0
    status: int | None = None
    drop: bool = False
    retry_after: int | None = None
    after_status: int | None = None  # carried out, then this status (a gateway gave up)
    login_page: bool = False  # an SSO proxy's 200 HTML login page; not carried out
    drip: float = 0.0  # the answer is sent at this many bytes per second
    huge_mb: float = 0.0  # the JSON answer is padded to about this many MB


@dataclass
class FaultSettings:
    """Current fault configuration; counts go down as matching requests consume them."""

    latency: float = 0.0
    status: int | None = None
    count: int = 0
    drop: int = 0
    path_prefix: str | None = None
    retry_after: int | None = None
    after_status: int | None = None
    login_page: int = 0
    drip: float = 0.0
    huge_mb: float = 0.0


class FaultInjector:
    """Holds the active faults; `.set()` replaces them, `.clear()` removes them."""

    def __init__(self) -> None:
        self.settings = FaultSettings()

    def set(
        self,
        *,
        latency: float | None = None,
        status: int | None = None,
        count: int | None = None,
        drop: int | None = None,
        path_prefix: str | None = None,
        retry_after: int | None = None,
        after_status: int | None = None,
        login_page: int | None = None,
        drip: float | None = None,
        huge_mb: float | None = None,
    ) -> None:
        """Replace the active faults.

        latency: seconds added before every matching request is answered, until cleared.
        status + count: the next `count` matching requests (default 1) get `status`.
        after_status + count: the next `count` matching requests (default 1) are carried
            out, then answered with `after_status` and a gateway's HTML page (a gateway
            that timed out after passing the request on: 504).
        drop: the next `drop` matching requests get their connection closed with no answer.
        login_page: the next `login_page` matching requests get a single sign-on proxy's
            200 HTML login page; they never reach the dialer.
        drip: every matching answer is sent at this many bytes per second, until cleared.
        huge_mb: every matching JSON answer is padded to about this many MB with a list
            of call-list-like entries under "padding", until cleared.
        retry_after: Retry-After header (seconds) sent with injected status answers.
        """
        if latency is not None and (not isinstance(latency, int | float) or latency < 0):
            raise FaultConfigError("latency: must be a number of seconds >= 0")
        for name, value in (("status", status), ("after_status", after_status)):
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or not 400 <= value <= 599
            ):
                raise FaultConfigError(f"{name}: must be an HTTP error status 400..599")
        if status is not None and after_status is not None:
            raise FaultConfigError("status, after_status: give one of them")
        for name, number in (("drip", drip), ("huge_mb", huge_mb)):
            if number is not None and (
                not isinstance(number, int | float) or isinstance(number, bool) or number < 0
            ):
                raise FaultConfigError(f"{name}: must be a number >= 0")
        if huge_mb is not None and huge_mb > 1024:
            raise FaultConfigError("huge_mb: at most 1024")
        for name, value in (
            ("count", count),
            ("drop", drop),
            ("retry_after", retry_after),
            ("login_page", login_page),
        ):
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 0
            ):
                raise FaultConfigError(f"{name}: must be an integer >= 0")
        if path_prefix is not None and not isinstance(path_prefix, str):
            raise FaultConfigError("path_prefix: must be a string or null")
        counted = status is not None or after_status is not None
        if count is None:
            count = 1 if counted else 0
        self.settings = FaultSettings(
            latency=float(latency or 0.0),
            status=status,
            count=count if counted else 0,
            drop=drop or 0,
            path_prefix=path_prefix,
            retry_after=retry_after,
            after_status=after_status,
            login_page=login_page or 0,
            drip=float(drip or 0.0),
            huge_mb=float(huge_mb or 0.0),
        )

    def clear(self) -> None:
        """Back to a healthy dialer."""
        self.settings = FaultSettings()

    def describe(self) -> dict[str, Any]:
        """The current settings as JSON-able dict (GET /_sim/faults)."""
        return asdict(self.settings)

    def matches(self, path: str) -> bool:
        prefix = self.settings.path_prefix
        if prefix is None:
            return path != "/token"
        return path.startswith(prefix)

    def plan(self, path: str) -> FaultPlan:
        """Decide (and consume) the fault for one incoming request."""
        s = self.settings
        if not self.matches(path):
            return FaultPlan()
        plan = FaultPlan(latency=s.latency, drip=s.drip, huge_mb=s.huge_mb)
        if s.drop > 0:
            s.drop -= 1
            plan.drop = True
        elif s.login_page > 0:
            s.login_page -= 1
            plan.login_page = True
        elif s.status is not None and s.count > 0:
            s.count -= 1
            plan.status = s.status
            plan.retry_after = s.retry_after
        elif s.after_status is not None and s.count > 0:
            s.count -= 1
            plan.after_status = s.after_status
        return plan
