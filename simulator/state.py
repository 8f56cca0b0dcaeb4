"""In-memory data of the simulated dialer: IVR apps, call lists and campaigns.

Records are kept in the API's own JSON shape (camelCase dicts) so that tests can compare
what the server stores with what a client sent or received without any mapping layer.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.dialects import GUIDE_TRANSITIONS, Dialect

COMMANDS: tuple[str, ...] = ("start", "pause", "unpause", "reload", "remove")
STATES: tuple[str, ...] = ("stopped", "running", "paused")

# command -> {state it is allowed in: state afterwards}, per dialect (simulator/dialects.py);
# "removed" means the campaign is deleted.
TRANSITIONS = GUIDE_TRANSITIONS

CONTROL_MESSAGES: dict[str, str] = {
    "start": "Campaign started",
    "pause": "Campaign paused",
    "unpause": "Campaign unpaused",
    "reload": "Campaign reloaded",
    "remove": "Campaign removed",
}


class TransitionError(Exception):
    """A control command that the campaign's current state does not allow (HTTP 409)."""


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class SimulatorState:
    """Everything the simulated dialer stores; mutate freely from tests."""

    ivr: dict[str, dict[str, Any]] = field(default_factory=dict)
    call_lists: dict[int, dict[str, Any]] = field(default_factory=dict)
    # The numbers of each call list, kept apart: listings never carry them, the detail only
    # its first DETAIL_NUMBERS (server.py).
    call_list_numbers: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    campaigns: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_call_list_id: int = 1
    next_campaign_id: int = 1
    dialect: Dialect = field(default_factory=Dialect)

    # ---- call lists -------------------------------------------------------------------
    def add_call_list(self, name: str, numbers: list[dict[str, Any]]) -> dict[str, Any]:
        """Store a validated call list and return its public record."""
        list_id = self.next_call_list_id
        self.next_call_list_id += 1
        record = {
            "id": list_id,
            "name": name,
            "numbersCount": len(numbers),
            "createdAt": _now_iso(),
        }
        self.call_lists[list_id] = record
        self.call_list_numbers[list_id] = numbers
        return record

    # ---- campaigns --------------------------------------------------------------------
    def add_campaign(self, body: dict[str, Any], state: str = "stopped") -> dict[str, Any]:
        """Store a validated, normalised campaign body; new campaigns start stopped (in the
        dialect's own word for it)."""
        campaign_id = self.next_campaign_id
        self.next_campaign_id += 1
        record = {"id": campaign_id, **copy.deepcopy(body), "state": self.dialect.state(state)}
        self.campaigns[campaign_id] = record
        return record

    def update_campaign(self, campaign_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Replace a campaign's settings (PUT semantics); its id and state are kept."""
        old = self.campaigns[campaign_id]
        record = {"id": campaign_id, **copy.deepcopy(body), "state": old["state"]}
        self.campaigns[campaign_id] = record
        return record

    def campaign_name_taken(self, name: str, exclude_id: int | None = None) -> bool:
        """Names are unique so that people can tell campaigns apart in chat."""
        folded = self.dialect.fold_name(name)
        return any(
            self.dialect.fold_name(c["name"]) == folded and cid != exclude_id
            for cid, c in self.campaigns.items()
        )

    def control(self, campaign_id: int, command: str) -> str:
        """Apply a control command; returns the new state or raises TransitionError."""
        campaign = self.campaigns[campaign_id]
        current = campaign["state"]
        target = self.dialect.transitions[command].get(current)
        if target is None:
            raise TransitionError(f"Cannot {command} campaign {campaign_id}: it is {current}")
        if target == "removed":
            del self.campaigns[campaign_id]
        else:
            campaign["state"] = target
        return target

    # ---- views ------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the public data, as /_sim/state shows it."""
        return copy.deepcopy(
            {
                "campaigns": list(self.campaigns.values()),
                "callLists": list(self.call_lists.values()),
                "ivr": list(self.ivr.values()),
            }
        )


# ---- seed data ----------------------------------------------------------------------------
_SEED_USER = {"id": "5b1c1c2e-0000-4000-8000-000000000001", "email": "admin@example.com"}
_SEED_TS = "2024-03-01T08:00:00.000Z"

SEED_IVR: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "TUxw53xCBf",
        "Outage announcement",
        "Plays the current outage message",
        "800",
        "+420222000800",
    ),
    ("Q7rPz2mK1a", "Customer survey", "Three-question satisfaction survey", "801", "+420222000801"),
    ("Hn4Vt8sLw0", "Agent handoff", "Short greeting, then the agent queue", "802", "+420222000802"),
)


def _seed_ivr(state: SimulatorState) -> None:
    for ivr_id, name, description, exten, ddi in SEED_IVR:
        state.ivr[ivr_id] = {
            "id": ivr_id,
            "name": name,
            "description": description,
            "createdAt": _SEED_TS,
            "updatedAt": _SEED_TS,
            "createdBy": dict(_SEED_USER),
            "updatedBy": dict(_SEED_USER),
            "routing": [{"exten": exten, "ddi": ddi}],
        }


def build_state(seed: bool = True, dialect: Dialect | None = None) -> SimulatorState:
    """IVR apps always exist (the API cannot create them); seed adds demo lists and campaigns
    (v2 adds a running one and one in a state the bot does not know)."""
    state = SimulatorState(dialect=dialect or Dialect())
    _seed_ivr(state)
    if not seed:
        return state
    state.add_call_list(
        "Prague customers",
        [
            {
                "number": n,
                "attributes": [{"name": "name", "value": who}, {"name": "district", "value": d}],
            }
            for n, who, d in (
                ("+420601000001", "Jana Nováková", "Praha 4"),
                ("+420601000002", "Petr Dvořák", "Praha 6"),
                ("+420601000003", "Eva Černá", "Praha 10"),
            )
        ],
    )
    state.add_call_list(
        "Brno outage area",
        [{"number": n, "attributes": []} for n in ("+420541000001", "+420541000002")],
    )
    state.add_campaign(
        {
            "name": "Spring promo",
            "callerId": "+420222000111",
            "activePeriod": {"startTime": "09:00", "endTime": "17:00", "weekDays": [1, 2, 3, 4, 5]},
            "callLists": [1],
            "rescheduleRules": [{"status": "RS_BUSY", "retryAfter": 300, "maxAttempts": 3}],
            "ivr": "TUxw53xCBf",
            "endpoint": {"type": "phone", "boostFactor": 1, "maxWaitingCalls": 2},
        }
    )
    state.add_campaign(
        {
            "name": "Outage Brno",
            "callerId": "+420222000222",
            "activePeriod": {
                "startTime": "08:00",
                "endTime": "20:00",
                "weekDays": [1, 2, 3, 4, 5, 6, 7],
            },
            "callLists": [2],
            "rescheduleRules": [
                {"status": "RS_NOANSWER", "retryAfter": 600, "maxAttempts": 2},
                {"status": "RS_ERROR", "retryAfter": 15, "maxAttempts": 1},
            ],
            "ivr": "TUxw53xCBf",
            "endpoint": {
                "type": "queue",
                "boostFactor": 1.1,
                "maxWaitingCalls": 2,
                "queue": "green",
            },
        },
        state="paused",
    )
    if state.dialect.v2:
        _seed_v2(state)
    return state


def _seed_v2(state: SimulatorState) -> None:
    base = {
        "activePeriod": {"startTime": "08:00", "endTime": "18:00", "weekDays": [1, 2, 3, 4, 5]},
        "callLists": [1],
        "rescheduleRules": [],
        "ivr": "Q7rPz2mK1a",
        "endpoint": {"type": "phone", "boostFactor": 1, "maxWaitingCalls": 2},
    }
    state.add_campaign({"name": "Winter survey", "callerId": "+420222000333", **base}, "RUNNING")
    state.add_campaign({"name": "Debt reminder", "callerId": "+420222000444", **base}, "DIALING")
