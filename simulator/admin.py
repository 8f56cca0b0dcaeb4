"""The simulator's test-only admin endpoints under /_sim (no auth): faults, the request
log, token expiry, a state snapshot, and changing a campaign's state "outside Slack".
"""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web

from simulator.faults import FaultConfigError


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def add_admin_routes(app: web.Application, sim: Any) -> None:
    """Register /_sim/* on ``app``; ``sim`` is the simulator whose state they change."""
    r = app.router

    def bound(handler: Any) -> Any:
        return functools.partial(handler, sim)

    r.add_post("/_sim/faults", bound(sim_set_faults))
    r.add_get("/_sim/faults", bound(sim_get_faults))
    r.add_delete("/_sim/faults", bound(sim_clear_faults))
    r.add_get("/_sim/requests", bound(sim_requests))
    r.add_delete("/_sim/requests", bound(sim_clear_requests))
    r.add_post("/_sim/expire-tokens", bound(sim_expire_tokens))
    r.add_get("/_sim/state", bound(sim_state))
    r.add_put("/_sim/campaigns/{id}/state", bound(sim_set_campaign_state))


async def sim_set_faults(sim: Any, request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "body: invalid JSON")
    if not isinstance(body, dict):
        return _error(400, "body: must be a JSON object")
    allowed = {
        "latency",
        "status",
        "count",
        "drop",
        "path_prefix",
        "retry_after",
        "after_status",
        "login_page",
        "drip",
        "huge_mb",
    }
    unknown = sorted(set(body) - allowed)
    if unknown:
        return _error(400, f"{unknown[0]}: unknown field")
    try:
        sim.faults.set(**body)
    except FaultConfigError as exc:
        return _error(400, str(exc))
    return web.json_response(sim.faults.describe())


async def sim_get_faults(sim: Any, request: web.Request) -> web.Response:
    return web.json_response(sim.faults.describe())


async def sim_clear_faults(sim: Any, request: web.Request) -> web.Response:
    sim.faults.clear()
    return web.json_response(sim.faults.describe())


async def sim_requests(sim: Any, request: web.Request) -> web.Response:
    return web.json_response(sim.requests)


async def sim_clear_requests(sim: Any, request: web.Request) -> web.Response:
    sim.requests.clear()
    return web.json_response([])


async def sim_expire_tokens(sim: Any, request: web.Request) -> web.Response:
    sim.tokens.expire_access_tokens()
    return web.json_response({"message": "All access tokens expired"})


async def sim_state(sim: Any, request: web.Request) -> web.Response:
    return web.json_response(sim.state.snapshot())


async def sim_set_campaign_state(sim: Any, request: web.Request) -> web.Response:
    """Change a campaign's state as someone in the Voipex portal would: outside Slack."""
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "body: invalid JSON")
    state = body.get("state") if isinstance(body, dict) else None
    if not isinstance(state, str) or not state:
        return _error(400, "state: must be a non-empty string")
    campaign = sim.state.campaigns.get(_int_or_none(request.match_info["id"]))
    if campaign is None:
        return _error(404, "Campaign not found")
    campaign["state"] = state
    return web.json_response(campaign)
