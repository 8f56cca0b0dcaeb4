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


@dataclass
class FaultSettings:
    """Current fault configuration; counts go down as matching requests consume them."""

    latency: float = 0.0
    status: int | None = None
    count: int = 0
    drop: int = 0
    path_prefix: str | None = None
    retry_after: int | None = None


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
    ) -> None:
        """Replace the active faults.

        latency: seconds added before every matching request is answered, until cleared.
        status + count: the next `count` matching requests (default 1) get `status`.
        drop: the next `drop` matching requests get their connection closed with no answer.
        retry_after: Retry-After header (seconds) sent with injected status answers.
        """
        if latency is not None and (not isinstance(latency, int | float) or latency < 0):
            raise FaultConfigError("latency: must be a number of seconds >= 0")
        if status is not None and (
            not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599
        ):
            raise FaultConfigError("status: must be an HTTP error status 400..599")
        for name, value in (("count", count), ("drop", drop), ("retry_after", retry_after)):
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 0
            ):
                raise FaultConfigError(f"{name}: must be an integer >= 0")
        if path_prefix is not None and not isinstance(path_prefix, str):
            raise FaultConfigError("path_prefix: must be a string or null")
        if count is None:
            count = 1 if status is not None else 0
        self.settings = FaultSettings(
            latency=float(latency or 0.0),
            status=status,
            count=count if status is not None else 0,
            drop=drop or 0,
            path_prefix=path_prefix,
            retry_after=retry_after,
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
        plan = FaultPlan(latency=s.latency)
        if s.drop > 0:
            s.drop -= 1
            plan.drop = True
        elif s.status is not None and s.count > 0:
            s.count -= 1
            plan.status = s.status
            plan.retry_after = s.retry_after
        return plan
