"""Two plausible readings of the dialer guide, so the bot is tested against more than one.

``guide`` is the simulator's original behaviour: lower-case states, bare arrays, control
answers ``{"id", "message", "state"}``, 400s as ``{"message", "errors": ["path: problem"]}``.
``v2`` is another reading, as a class-validator/WombatDialer-backed service might answer:
upper-case states (IDLE, RUNNING, PAUSED, WRONG_TIME, COMPLETED, and states the bot does
not know), lists as ``{"data": [...], "total", "page", "limit"}``, control answers 204 with
no body, 400s in class-validator's tree, and extra fields on every object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

DIALECTS = ("guide", "v2")

GUIDE_TRANSITIONS: dict[str, dict[str, str]] = {
    "start": {"stopped": "running"},
    "pause": {"running": "paused"},
    "unpause": {"paused": "running"},
    "reload": {"running": "running", "paused": "paused"},
    "remove": {"stopped": "removed", "running": "removed", "paused": "removed"},
}
# v2: WombatDialer's run states, plus DIALING (pausable) and ARCHIVING (accepts nothing),
# two states the bot has never heard of.
V2_TRANSITIONS: dict[str, dict[str, str]] = {
    "start": {"IDLE": "RUNNING", "COMPLETED": "RUNNING"},
    "pause": {"RUNNING": "PAUSED", "WRONG_TIME": "PAUSED", "DIALING": "PAUSED"},
    "unpause": {"PAUSED": "RUNNING"},
    "reload": {"RUNNING": "RUNNING", "PAUSED": "PAUSED", "WRONG_TIME": "WRONG_TIME"},
    "remove": {s: "removed" for s in ("IDLE", "RUNNING", "PAUSED", "WRONG_TIME", "COMPLETED")},
}
V2_NAMES = {"stopped": "IDLE", "running": "RUNNING", "paused": "PAUSED"}
V2_PAGE_SIZE = 2  # small, so that the seed data already spans pages
V2_MAX_PAGE_SIZE = 100
VALIDATION_MESSAGE = "Invalid body, check 'errors' property for more info."


@dataclass(frozen=True)
class Dialect:
    """What differs between the readings; the handlers ask it how to answer."""

    name: str = "guide"
    transitions: dict[str, dict[str, str]] = field(default_factory=lambda: GUIDE_TRANSITIONS)
    state_names: dict[str, str] = field(default_factory=dict)

    @property
    def v2(self) -> bool:
        return self.name == "v2"

    def state(self, canonical: str) -> str:
        """The dialect's name for one of the simulator's seed states."""
        return self.state_names.get(canonical, canonical)

    def fold_name(self, name: str) -> str:
        """How names are compared for uniqueness: v2 also ignores repeated spaces."""
        return " ".join(name.split()).casefold() if self.v2 else name.casefold()

    def present(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """An object as the API shows it; v2 adds fields the bot does not model."""
        if not self.v2:
            return record
        extra: dict[str, Any] = {
            "campaign": {
                "tenantId": "t-001",
                "createdAt": "2024-03-01T08:00:00.000Z",
                "stats": {"n_calls_attempted": 0, "n_calls_completed": 0},
            },
            "call_list": {"tags": [], "source": "api"},
            "ivr": {"language": "cs-CZ", "version": 3},
        }[kind]
        return {**record, **extra}

    def listing(self, request: web.Request, kind: str, records: list[Any]) -> web.Response:
        items = [self.present(kind, r) for r in records]
        if not self.v2:
            return web.json_response(items)
        page = _query_int(request, "page", 1, 1, 10**6)
        limit = _query_int(request, "limit", V2_PAGE_SIZE, 1, V2_MAX_PAGE_SIZE)
        chunk = items[(page - 1) * limit : page * limit]
        return web.json_response({"data": chunk, "total": len(items), "page": page, "limit": limit})

    def control_answer(self, campaign_id: int, message: str, state: str) -> web.Response:
        if self.v2:
            return web.Response(status=204)
        return web.json_response({"id": campaign_id, "message": message, "state": state})

    def created(self, body: dict[str, Any]) -> web.Response:
        """201 to a create: v2 gives only the id (and the count of a call list)."""
        if self.v2:
            body = {k: v for k, v in body.items() if k != "message"}
        return web.json_response(body, status=201)

    def updated(self, campaign_id: int) -> web.Response:
        if self.v2:
            return web.Response(status=204)
        return web.json_response({"id": campaign_id, "message": "Campaign successfully updated"})

    def validation_error(self, errors: list[str]) -> web.Response:
        if not self.v2:
            return web.json_response({"message": errors[0], "errors": errors}, status=400)
        return web.json_response(
            {"message": VALIDATION_MESSAGE, "errors": class_validator_tree(errors)}, status=400
        )


def make_dialect(name: str) -> Dialect:
    if name == "guide":
        return Dialect()
    if name == "v2":
        return Dialect("v2", V2_TRANSITIONS, V2_NAMES)
    raise ValueError(f"unknown dialect {name!r}; expected one of {', '.join(DIALECTS)}")


def class_validator_tree(errors: list[str]) -> list[dict[str, Any]]:
    """ "activePeriod.weekDays[2]: must be ..." lines as class-validator's nested errors."""
    roots: list[dict[str, Any]] = []
    for line in errors:
        path, _, problem = line.partition(": ")
        parts = [p for p in path.replace("[", ".").replace("]", "").split(".") if p] or ["body"]
        level = roots
        node: dict[str, Any] = {}
        for part in parts:
            node = next((n for n in level if n["property"] == part), {})
            if not node:
                node = {"property": part, "children": [], "constraints": {}}
                level.append(node)
            level = node["children"]
        node["constraints"][f"rule{len(node['constraints']) + 1}"] = problem or line
    return roots


def _query_int(request: web.Request, key: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(key, "")
    if not raw.isdigit():
        return default
    return max(low, min(high, int(raw)))
