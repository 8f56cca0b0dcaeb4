"""Tests for the Voipex dialer simulator, run for real over HTTP on a free port."""

from __future__ import annotations

import asyncio
import copy
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from simulator.server import RunningSimulator
from simulator.validation import MAX_NUMBERS, ValidationError, validate_call_list
from tests.sim_fixtures import (  # noqa: F401  (fixtures are used by name)
    SIM_PASSWORD,
    SIM_USERNAME,
    FakeClock,
    make_simulator,
    simulator,
)

PASSWORD_FORM = {
    "client_id": "api",
    "grant_type": "password",
    "username": SIM_USERNAME,
    "password": SIM_PASSWORD,
}

VALID_CAMPAIGN: dict[str, Any] = {
    "name": "Summer sale",
    "callerId": "+420123456789",
    "activePeriod": {"startTime": "09:00", "endTime": "17:00", "weekDays": [1, 2, 3, 4, 5]},
    "callLists": [1, 2],
    "rescheduleRules": [{"status": "RS_ERROR", "retryAfter": 15, "maxAttempts": 1}],
    "ivr": "TUxw53xCBf",
    "endpoint": {"type": "queue", "boostFactor": 1.1, "maxWaitingCalls": 2, "queue": "green"},
}


async def get_token(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/token", data=PASSWORD_FORM)
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest_asyncio.fixture
async def client(simulator: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    async with httpx.AsyncClient(base_url=simulator.url, timeout=10) as c:
        yield c


@pytest_asyncio.fixture
async def api(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The same client, with a valid bearer token on every request."""
    client.headers.update(bearer((await get_token(client))["access_token"]))
    return client


def with_change(path: str, value: Any) -> dict[str, Any]:
    """VALID_CAMPAIGN with one dotted path set (or removed when value is DELETE)."""
    body = copy.deepcopy(VALID_CAMPAIGN)
    target: Any = body
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    last: Any = int(keys[-1]) if isinstance(target, list) else keys[-1]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return body


DELETE = object()


# ---- startup -------------------------------------------------------------------------------
async def test_url_has_real_port_and_loopback(simulator: RunningSimulator) -> None:  # noqa: F811
    assert simulator.url.startswith("http://127.0.0.1:")
    assert not simulator.url.endswith(":0")
    assert simulator.auth_url == simulator.url + "/token"


async def test_stop_is_idempotent_and_closes_port(make_simulator) -> None:  # noqa: F811
    sim = await make_simulator()
    await sim.stop()
    await sim.stop()
    async with httpx.AsyncClient() as c:
        with pytest.raises(httpx.ConnectError):
            await c.get(sim.url + "/ivr")


async def test_no_seed_has_only_ivr(make_simulator) -> None:  # noqa: F811
    sim = await make_simulator(seed=False)
    assert len(sim.state.ivr) == 3
    assert sim.state.campaigns == {}
    assert sim.state.call_lists == {}


# ---- token endpoint --------------------------------------------------------------------------
async def test_password_grant_answers_keycloak_shape(client: httpx.AsyncClient) -> None:
    body = await get_token(client)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3000
    assert body["refresh_expires_in"] == 7200
    assert body["not-before-policy"] == 0
    assert body["access_token"] and body["refresh_token"]
    assert body["access_token"] != body["refresh_token"]
    assert {"session_state", "scope"} <= body.keys()


@pytest.mark.parametrize(
    ("field", "value"), [("password", "wrong"), ("username", "nobody@example.com")]
)
async def test_bad_credentials_are_401(client: httpx.AsyncClient, field: str, value: str) -> None:
    response = await client.post("/token", data={**PASSWORD_FORM, field: value})
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid user credentials",
    }


async def test_wrong_client_id_is_invalid_client(client: httpx.AsyncClient) -> None:
    response = await client.post("/token", data={**PASSWORD_FORM, "client_id": "web"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_unknown_grant_type_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/token", data={**PASSWORD_FORM, "grant_type": "magic"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_refresh_grant_gives_working_token(client: httpx.AsyncClient) -> None:
    first = await get_token(client)
    response = await client.post(
        "/token",
        data={
            "client_id": "api",
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
        },
    )
    assert response.status_code == 200
    second = response.json()
    assert second["access_token"] != first["access_token"]
    ivr = await client.get("/ivr", headers=bearer(second["access_token"]))
    assert ivr.status_code == 200


async def test_bad_refresh_token_is_400_not_active(client: httpx.AsyncClient) -> None:
    form = {"client_id": "api", "grant_type": "refresh_token", "refresh_token": "nope"}
    response = await client.post("/token", data=form)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "Token is not active"}


async def test_tokens_expire_by_clock(make_simulator) -> None:  # noqa: F811
    clock = FakeClock()
    sim = await make_simulator(token_lifetime=10, clock=clock)
    async with httpx.AsyncClient(base_url=sim.url) as c:
        tokens = await get_token(c)
        assert tokens["expires_in"] == 10
        assert tokens["refresh_expires_in"] == 24
        assert (await c.get("/ivr", headers=bearer(tokens["access_token"]))).status_code == 200
        clock.advance(9.9)
        assert (await c.get("/ivr", headers=bearer(tokens["access_token"]))).status_code == 200
        clock.advance(0.2)
        expired = await c.get("/ivr", headers=bearer(tokens["access_token"]))
        assert expired.status_code == 401
        assert expired.json() == {"message": "Invalid or expired token"}
        # The refresh token outlives the access token...
        refresh_form = {
            "client_id": "api",
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
        }
        assert (await c.post("/token", data=refresh_form)).status_code == 200
        # ...but not forever.
        clock.advance(14)
        late = await c.post("/token", data=refresh_form)
        assert late.status_code == 400
        assert late.json()["error_description"] == "Token is not active"


async def test_expire_tokens_admin_endpoint(
    simulator: RunningSimulator,  # noqa: F811
    client: httpx.AsyncClient,
) -> None:
    tokens = await get_token(client)
    assert (await client.post("/_sim/expire-tokens")).status_code == 200
    assert (await client.get("/ivr", headers=bearer(tokens["access_token"]))).status_code == 401
    refreshed = await client.post(
        "/token",
        data={
            "client_id": "api",
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
        },
    )
    assert refreshed.status_code == 200
    new = refreshed.json()["access_token"]
    assert (await client.get("/ivr", headers=bearer(new))).status_code == 200


async def test_static_api_token_is_accepted(make_simulator) -> None:  # noqa: F811
    sim = await make_simulator(static_token="long-lived-token")
    async with httpx.AsyncClient(base_url=sim.url) as c:
        assert (await c.get("/ivr", headers=bearer("long-lived-token"))).status_code == 200
        assert (await c.get("/ivr", headers=bearer("other-token"))).status_code == 401


# ---- auth on the API ---------------------------------------------------------------------------
API_CALLS = [
    ("GET", "/ivr"),
    ("GET", "/dialer/call-lists"),
    ("GET", "/dialer/call-lists/1"),
    ("POST", "/dialer/call-lists"),
    ("GET", "/dialer/campaigns"),
    ("GET", "/dialer/campaigns/1"),
    ("POST", "/dialer/campaigns"),
    ("PUT", "/dialer/campaigns/1"),
    ("PUT", "/dialer/campaigns/1/control"),
]


@pytest.mark.parametrize(("method", "path"), API_CALLS)
@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic ZGVtbzpkZW1v"])
async def test_api_rejects_missing_or_bad_token(
    simulator: RunningSimulator,  # noqa: F811
    client: httpx.AsyncClient,
    method: str,
    path: str,
    header: str | None,
) -> None:
    headers = {"Authorization": header} if header else {}
    response = await client.request(method, path, json={"command": "start"}, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid or expired token"}
    assert simulator.state.campaigns[1]["state"] == "stopped"


# ---- endpoints ---------------------------------------------------------------------------------
async def test_list_ivr(api: httpx.AsyncClient) -> None:
    response = await api.get("/ivr")
    assert response.status_code == 200
    apps = response.json()
    assert [a["id"] for a in apps] == ["TUxw53xCBf", "Q7rPz2mK1a", "Hn4Vt8sLw0"]
    first = apps[0]
    assert first["name"] == "Outage announcement"
    assert set(first) == {
        "id",
        "name",
        "description",
        "createdAt",
        "updatedAt",
        "createdBy",
        "updatedBy",
        "routing",
    }
    assert set(first["createdBy"]) == {"id", "email"}
    assert set(first["routing"][0]) == {"exten", "ddi"}


async def test_seeded_call_lists(api: httpx.AsyncClient) -> None:
    lists = (await api.get("/dialer/call-lists")).json()
    assert [(x["id"], x["name"], x["numbersCount"]) for x in lists] == [
        (1, "Prague customers", 3),
        (2, "Brno outage area", 2),
    ]
    one = (await api.get("/dialer/call-lists/2")).json()
    assert set(one) == {"id", "name", "numbersCount", "createdAt", "numbers"}
    assert one["name"] == "Brno outage area"
    assert [n["number"] for n in one["numbers"]] == ["+420541000001", "+420541000002"]
    assert all("numbers" not in x for x in lists)  # listings carry no numbers


async def test_create_call_list(simulator: RunningSimulator, api: httpx.AsyncClient) -> None:  # noqa: F811
    numbers = [{"number": f"+4206010{i:05d}", "attributes": []} for i in range(5000)]
    response = await api.post("/dialer/call-lists", json={"name": "Big list", "numbers": numbers})
    assert response.status_code == 201
    assert response.json() == {
        "id": 3,
        "message": "Call list successfully created",
        "numbersCount": 5000,
    }
    got = (await api.get("/dialer/call-lists/3")).json()
    assert got["numbersCount"] == 5000
    assert len(got["numbers"]) == 100  # the detail carries only the first numbers
    assert got["numbers"][0] == {"number": "+420601000000", "attributes": []}
    assert simulator.state.call_list_numbers[3][4999]["number"] == "+420601004999"


async def test_seeded_campaigns(api: httpx.AsyncClient) -> None:
    campaigns = (await api.get("/dialer/campaigns")).json()
    assert [(c["id"], c["name"], c["state"]) for c in campaigns] == [
        (1, "Spring promo", "stopped"),
        (2, "Outage Brno", "paused"),
    ]
    outage = (await api.get("/dialer/campaigns/2")).json()
    assert outage["callLists"] == [2]
    assert outage["endpoint"]["type"] == "queue"
    assert outage["endpoint"]["queue"] == "green"
    spring = campaigns[0]
    assert spring["callLists"] == [1]
    assert spring["ivr"] == "TUxw53xCBf"


async def test_create_campaign_stores_it_stopped(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    response = await api.post("/dialer/campaigns", json=VALID_CAMPAIGN)
    assert response.status_code == 201
    assert response.json() == {"id": 3, "message": "Campaign successfully created"}
    got = (await api.get("/dialer/campaigns/3")).json()
    assert got == {"id": 3, **VALID_CAMPAIGN, "state": "stopped"}
    assert simulator.state.campaigns[3]["name"] == "Summer sale"


async def test_create_campaign_applies_documented_defaults(api: httpx.AsyncClient) -> None:
    body = copy.deepcopy(VALID_CAMPAIGN)
    del body["endpoint"]
    del body["rescheduleRules"]
    created = (await api.post("/dialer/campaigns", json=body)).json()
    got = (await api.get(f"/dialer/campaigns/{created['id']}")).json()
    assert got["endpoint"] == {"type": "phone", "boostFactor": 1, "maxWaitingCalls": 2}
    assert got["rescheduleRules"] == []


async def test_update_campaign_replaces_settings_keeps_state(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    body = with_change("name", "Outage Brno")  # its own name is not a clash
    body["callerId"] = "555000111"
    response = await api.put("/dialer/campaigns/2", json=body)
    assert response.status_code == 200
    assert response.json() == {"id": 2, "message": "Campaign successfully updated"}
    got = (await api.get("/dialer/campaigns/2")).json()
    assert got["callerId"] == "555000111"
    assert got["callLists"] == [1, 2]
    assert got["state"] == "paused"


async def test_campaign_names_are_unique(api: httpx.AsyncClient) -> None:
    clash = with_change("name", "spring PROMO")
    created = await api.post("/dialer/campaigns", json=clash)
    assert created.status_code == 400
    assert created.json()["message"] == "name: a campaign named 'spring PROMO' already exists"
    updated = await api.put("/dialer/campaigns/2", json=with_change("name", "Spring promo"))
    assert updated.status_code == 400
    assert updated.json()["message"].startswith("name: ")


# ---- validation --------------------------------------------------------------------------------
CAMPAIGN_ERRORS = [
    ("name", DELETE, "name: is required"),
    ("name", "   ", "name: must not be empty"),
    ("name", 42, "name: must be a string"),
    ("callerId", DELETE, "callerId: is required"),
    ("callerId", "12-34", "callerId: must be digits"),
    ("callerId", "+1234567890123456", "callerId: must be digits"),
    ("callerId", 123456789, "callerId: must be digits"),
    ("callerId", "", "callerId: must be digits"),
    ("activePeriod", DELETE, "activePeriod: is required"),
    ("activePeriod", "09:00-17:00", "activePeriod: must be an object"),
    ("activePeriod.startTime", DELETE, "activePeriod.startTime: is required"),
    ("activePeriod.startTime", "24:00", "activePeriod.startTime: must be a time HH:MM"),
    ("activePeriod.startTime", "9:00", "activePeriod.startTime: must be a time HH:MM"),
    ("activePeriod.endTime", "17:60", "activePeriod.endTime: must be a time HH:MM"),
    ("activePeriod.endTime", 1700, "activePeriod.endTime: must be a time HH:MM"),
    ("activePeriod.weekDays", DELETE, "activePeriod.weekDays: is required"),
    ("activePeriod.weekDays", [], "activePeriod.weekDays: must contain at least one day"),
    ("activePeriod.weekDays", "1,2", "activePeriod.weekDays: must be a list"),
    ("activePeriod.weekDays", [1, 8], "activePeriod.weekDays[1]: must be an integer from 1"),
    ("activePeriod.weekDays", [0], "activePeriod.weekDays[0]: must be an integer from 1"),
    ("activePeriod.weekDays", ["1"], "activePeriod.weekDays[0]: must be an integer from 1"),
    ("activePeriod.weekDays", [1, 2, 1], "activePeriod.weekDays[2]: day 1 is listed twice"),
    ("activePeriod.weekday", [1], "activePeriod.weekday: unknown field"),
    ("callLists", DELETE, "callLists: is required"),
    ("callLists", [], "callLists: must contain at least one call list id"),
    ("callLists", 1, "callLists: must be a list"),
    ("callLists", ["1"], "callLists[0]: must be an integer call list id"),
    ("callLists", [True], "callLists[0]: must be an integer call list id"),
    ("callLists", [1, 99], "callLists[1]: call list 99 does not exist"),
    ("callLists", [1, 1], "callLists[1]: call list 1 is listed twice"),
    ("rescheduleRules", None, "rescheduleRules: must be a list"),
    ("rescheduleRules", [1], "rescheduleRules[0]: must be an object"),
    ("rescheduleRules.0.status", DELETE, "rescheduleRules[0].status: is required"),
    ("rescheduleRules.0.status", "RS_FOO", "rescheduleRules[0].status: must be one of RS_BUSY"),
    ("rescheduleRules.0.status", "TERMINATED", "rescheduleRules[0].status: must be one of"),
    ("rescheduleRules.0.retryAfter", DELETE, "rescheduleRules[0].retryAfter: is required"),
    ("rescheduleRules.0.retryAfter", 0, "rescheduleRules[0].retryAfter: must be a positive"),
    ("rescheduleRules.0.retryAfter", 1.5, "rescheduleRules[0].retryAfter: must be a positive"),
    ("rescheduleRules.0.maxAttempts", DELETE, "rescheduleRules[0].maxAttempts: is required"),
    ("rescheduleRules.0.maxAttempts", "3", "rescheduleRules[0].maxAttempts: must be a positive"),
    ("rescheduleRules.0.note", "x", "rescheduleRules[0].note: unknown field"),
    ("ivr", DELETE, "ivr: is required"),
    ("ivr", 7, "ivr: must be an IVR application id"),
    ("ivr", "NoSuchIvr0", "ivr: IVR application 'NoSuchIvr0' does not exist"),
    ("endpoint", "phone", "endpoint: must be an object"),
    ("endpoint.type", "sip", "endpoint.type: must be phone or queue"),
    ("endpoint.boostFactor", 0, "endpoint.boostFactor: must be a number greater than 0"),
    ("endpoint.boostFactor", "1.1", "endpoint.boostFactor: must be a number greater than 0"),
    ("endpoint.maxWaitingCalls", 0, "endpoint.maxWaitingCalls: must be an integer of at least 1"),
    ("endpoint.maxWaitingCalls", 2.5, "endpoint.maxWaitingCalls: must be an integer of at least"),
    ("endpoint.queue", DELETE, "endpoint.queue: is required when endpoint.type is queue"),
    ("endpoint.queue", "", "endpoint.queue: must be a non-empty string"),
    ("endpoint.extra", 1, "endpoint.extra: unknown field"),
    ("state", "running", "state: unknown field"),
    ("id", 5, "id: unknown field"),
]


@pytest.mark.parametrize(("path", "value", "message"), CAMPAIGN_ERRORS)
@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_campaign_validation_names_the_field(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
    method: str,
    path: str,
    value: Any,
    message: str,
) -> None:
    before = copy.deepcopy(simulator.state.campaigns)
    url = "/dialer/campaigns" if method == "POST" else "/dialer/campaigns/1"
    response = await api.request(method, url, json=with_change(path, value))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["message"].startswith(message), body
    assert body["errors"] == [body["message"]]
    assert simulator.state.campaigns == before


async def test_campaign_validation_reports_every_problem(api: httpx.AsyncClient) -> None:
    body = with_change("callerId", "abc")
    body["callLists"] = ["1"]
    response = await api.post("/dialer/campaigns", json=body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e.split(":")[0] for e in errors] == ["callerId", "callLists[0]"]


async def test_phone_endpoint_may_omit_queue(api: httpx.AsyncClient) -> None:
    body = with_change("endpoint", {"type": "phone", "boostFactor": 2})
    response = await api.post("/dialer/campaigns", json=body)
    assert response.status_code == 201, response.text
    got = (await api.get(f"/dialer/campaigns/{response.json()['id']}")).json()
    assert got["endpoint"] == {"type": "phone", "boostFactor": 2, "maxWaitingCalls": 2}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "body: invalid JSON"),
        (b"[1, 2]", "body: must be a JSON object"),
        (b"", "body: a JSON object is required"),
    ],
)
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", "/dialer/campaigns"),
        ("PUT", "/dialer/campaigns/1"),
        ("POST", "/dialer/call-lists"),
        ("PUT", "/dialer/campaigns/1/control"),
    ],
)
async def test_bad_bodies_are_400(
    api: httpx.AsyncClient, method: str, url: str, content: bytes, message: str
) -> None:
    headers = {"Content-Type": "application/json"}
    response = await api.request(method, url, content=content, headers=headers)
    assert response.status_code == 400
    assert response.json()["message"] == message


CALL_LIST_ERRORS = [
    ({"numbers": [{"number": "1", "attributes": []}]}, "name: is required"),
    ({"name": "", "numbers": [{"number": "1", "attributes": []}]}, "name: must not be empty"),
    ({"name": "x"}, "numbers: is required"),
    ({"name": "x", "numbers": []}, "numbers: must contain at least one number"),
    ({"name": "x", "numbers": "123"}, "numbers: must be a list"),
    ({"name": "x", "numbers": ["123"]}, "numbers[0]: must be an object"),
    ({"name": "x", "numbers": [{"attributes": []}]}, "numbers[0].number: is required"),
    (
        {"name": "x", "numbers": [{"number": "1", "attributes": []}, {"number": "12a"}]},
        "numbers[1].number: must be digits",
    ),
    ({"name": "x", "numbers": [{"number": 123, "attributes": []}]}, "numbers[0].number: must be"),
    (
        {"name": "x", "numbers": [{"number": "1234567890123456", "attributes": []}]},
        "numbers[0].number: must be digits",
    ),
    ({"name": "x", "numbers": [{"number": "1"}]}, "numbers[0].attributes: is required"),
    (
        {"name": "x", "numbers": [{"number": "1", "attributes": {}}]},
        "numbers[0].attributes: must be a list",
    ),
    (
        {"name": "x", "numbers": [{"number": "1", "attributes": [], "tag": 1}]},
        "numbers[0].tag: unknown field",
    ),
    ({"name": "x", "numbers": [{"number": "1", "attributes": []}], "x": 1}, "x: unknown field"),
]


@pytest.mark.parametrize(("body", "message"), CALL_LIST_ERRORS)
async def test_call_list_validation_names_the_field(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
    body: dict[str, Any],
    message: str,
) -> None:
    response = await api.post("/dialer/call-lists", json=body)
    assert response.status_code == 400
    assert response.json()["message"].startswith(message), response.json()
    assert len(simulator.state.call_lists) == 2


def test_call_list_limit_is_one_million_numbers() -> None:
    item = {"number": "+420601000001", "attributes": []}
    with pytest.raises(ValidationError, match=r"^numbers: at most 1000000 numbers"):
        validate_call_list({"name": "huge", "numbers": [item] * (MAX_NUMBERS + 1)})
    name, numbers = validate_call_list({"name": "huge", "numbers": [item] * MAX_NUMBERS})
    assert (name, len(numbers)) == ("huge", MAX_NUMBERS)


# ---- campaign state machine ------------------------------------------------------------------
# Written out independently of simulator.state so that a wrong table there fails here.
EXPECTED_AFTER = {
    ("stopped", "start"): "running",
    ("stopped", "remove"): "removed",
    ("running", "pause"): "paused",
    ("running", "reload"): "running",
    ("running", "remove"): "removed",
    ("paused", "unpause"): "running",
    ("paused", "reload"): "paused",
    ("paused", "remove"): "removed",
}
MESSAGES = {
    "start": "Campaign started",
    "pause": "Campaign paused",
    "unpause": "Campaign unpaused",
    "reload": "Campaign reloaded",
    "remove": "Campaign removed",
}


@pytest.mark.parametrize("state", ["stopped", "running", "paused"])
@pytest.mark.parametrize("command", ["start", "pause", "unpause", "reload", "remove"])
async def test_control_matrix(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
    state: str,
    command: str,
) -> None:
    simulator.state.campaigns[1]["state"] = state
    response = await api.put("/dialer/campaigns/1/control", json={"command": command})
    expected = EXPECTED_AFTER.get((state, command))
    if expected is None:
        assert response.status_code == 409
        assert response.json()["message"] == f"Cannot {command} campaign 1: it is {state}"
        assert simulator.state.campaigns[1]["state"] == state
        return
    assert response.status_code == 200
    assert response.json() == {"id": 1, "message": MESSAGES[command], "state": expected}
    if expected == "removed":
        assert 1 not in simulator.state.campaigns
        assert (await api.get("/dialer/campaigns/1")).status_code == 404
    else:
        assert (await api.get("/dialer/campaigns/1")).json()["state"] == expected


async def test_full_lifecycle_over_http(api: httpx.AsyncClient) -> None:
    new_id = (await api.post("/dialer/campaigns", json=VALID_CAMPAIGN)).json()["id"]
    url = f"/dialer/campaigns/{new_id}/control"
    states = []
    for command in ("start", "pause", "reload", "unpause", "reload", "remove"):
        response = await api.put(url, json={"command": command})
        assert response.status_code == 200, response.text
        states.append(response.json()["state"])
    assert states == ["running", "paused", "paused", "running", "running", "removed"]
    listed = [c["id"] for c in (await api.get("/dialer/campaigns")).json()]
    assert new_id not in listed
    again = await api.put(url, json={"command": "start"})
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"command": "stop"}, "command: must be one of start, pause, unpause, reload, remove"),
        ({"command": None}, "command: must be one of"),
        ({}, "command: is required"),
        ({"command": "start", "force": True}, "force: unknown field"),
    ],
)
async def test_bad_commands_are_400(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
    body: dict[str, Any],
    message: str,
) -> None:
    response = await api.put("/dialer/campaigns/1/control", json=body)
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)
    assert simulator.state.campaigns[1]["state"] == "stopped"


# ---- 404s ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "url", "message"),
    [
        ("GET", "/dialer/campaigns/12", "Campaign 12 not found"),
        ("PUT", "/dialer/campaigns/12", "Campaign 12 not found"),
        ("PUT", "/dialer/campaigns/12/control", "Campaign 12 not found"),
        ("GET", "/dialer/campaigns/abc", "Campaign abc not found"),
        ("GET", "/dialer/call-lists/12", "Call list 12 not found"),
        ("GET", "/dialer/call-lists/x", "Call list x not found"),
        ("GET", "/dialer/nothing", "Not found: GET /dialer/nothing"),
    ],
)
async def test_not_found(api: httpx.AsyncClient, method: str, url: str, message: str) -> None:
    response = await api.request(method, url, json={"command": "start", **VALID_CAMPAIGN})
    assert response.status_code == 404
    assert response.json() == {"message": message}


async def test_wrong_method_is_json_405(api: httpx.AsyncClient) -> None:
    response = await api.delete("/dialer/campaigns/1")
    assert response.status_code == 405
    assert "message" in response.json()


# ---- fault injection -----------------------------------------------------------------------------
async def test_status_fault_for_n_requests_then_normal(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    simulator.faults.set(status=503, count=2, retry_after=3)
    first = await api.get("/ivr")
    second = await api.get("/dialer/campaigns")
    third = await api.get("/ivr")
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.headers["Retry-After"] == "3"
    assert first.json() == {"message": "Simulated fault: HTTP 503"}


async def test_status_fault_defaults_to_one_request(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    simulator.faults.set(status=429)
    assert (await api.get("/ivr")).status_code == 429
    assert (await api.get("/ivr")).status_code == 200


async def test_fault_does_not_run_the_handler(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    simulator.faults.set(status=500, count=1)
    response = await api.put("/dialer/campaigns/1/control", json={"command": "start"})
    assert response.status_code == 500
    assert simulator.state.campaigns[1]["state"] == "stopped"


async def test_path_prefix_limits_faults(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    simulator.faults.set(status=502, count=1, path_prefix="/dialer/campaigns")
    assert (await api.get("/ivr")).status_code == 200
    assert (await api.get("/dialer/call-lists")).status_code == 200
    assert (await api.get("/dialer/campaigns/1")).status_code == 502
    assert (await api.get("/dialer/campaigns/1")).status_code == 200


async def test_token_endpoint_is_only_faulted_when_targeted(
    simulator: RunningSimulator,  # noqa: F811
    client: httpx.AsyncClient,
) -> None:
    simulator.faults.set(status=503, count=1)
    assert (await client.post("/token", data=PASSWORD_FORM)).status_code == 200
    simulator.faults.set(status=503, count=1, path_prefix="/token")
    assert (await client.post("/token", data=PASSWORD_FORM)).status_code == 503
    assert (await client.post("/token", data=PASSWORD_FORM)).status_code == 200


async def test_latency_is_added_without_blocking_others(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    simulator.faults.set(latency=0.4, path_prefix="/dialer/campaigns")
    start = time.monotonic()
    slow = asyncio.create_task(api.get("/dialer/campaigns"))
    fast = await api.get("/ivr")
    fast_done = time.monotonic() - start
    slow_response = await slow
    slow_done = time.monotonic() - start
    assert fast.status_code == 200
    assert slow_response.status_code == 200
    assert fast_done < 0.3
    assert slow_done >= 0.4


async def test_stop_cancels_pending_latency(make_simulator) -> None:  # noqa: F811
    sim = await make_simulator(static_token="t")
    sim.faults.set(latency=30)
    async with httpx.AsyncClient(base_url=sim.url, headers=bearer("t")) as c:
        pending = asyncio.create_task(c.get("/ivr"))
        # Still unanswered after a while: it is sleeping on the injected latency.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(pending), 0.3)
        assert len(sim.requests) == 1
        start = time.monotonic()
        await sim.stop()
        assert time.monotonic() - start < 2
        with pytest.raises(httpx.TransportError):
            await pending


async def test_drop_closes_connection_without_answer(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    simulator.faults.set(drop=1)
    with pytest.raises(httpx.RemoteProtocolError):
        await api.put("/dialer/campaigns/1/control", json={"command": "start"})
    assert simulator.state.campaigns[1]["state"] == "stopped"
    assert (await api.get("/ivr")).status_code == 200
    assert simulator.requests[-2]["status"] is None


async def test_fault_admin_endpoints(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    set_response = await api.post("/_sim/faults", json={"status": 500, "count": 5})
    assert set_response.status_code == 200
    assert set_response.json()["count"] == 5
    assert (await api.get("/ivr")).status_code == 500
    assert (await api.get("/_sim/faults")).json()["count"] == 4
    assert (await api.delete("/_sim/faults")).status_code == 200
    assert (await api.get("/ivr")).status_code == 200


async def test_gateway_answers_after_carrying_the_command_out(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    """after_status: the dialer did it, the gateway in front answered 504 meanwhile."""
    set_response = await api.post("/_sim/faults", json={"after_status": 504})
    assert set_response.status_code == 200, set_response.text
    answer = await api.put("/dialer/campaigns/1/control", json={"command": "start"})
    assert answer.status_code == 504
    assert "<title>504 Gateway Time-out</title>" in answer.text
    assert simulator.state.campaigns[1]["state"] == "running"  # carried out all the same
    assert (await api.get("/dialer/campaigns/1")).status_code == 200  # one request only


async def test_login_page_answers_200_without_reaching_the_dialer(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    assert (await api.post("/_sim/faults", json={"login_page": 1})).status_code == 200
    answer = await api.put("/dialer/campaigns/1/control", json={"command": "start"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "<title>Sign in - Voipex SSO</title>" in answer.text
    assert simulator.state.campaigns[1]["state"] == "stopped"  # never carried out
    assert (await api.get("/dialer/campaigns/1")).json()["state"] == "stopped"


async def test_drip_sends_the_answer_slowly(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    simulator.faults.set(drip=100, path_prefix="/dialer/campaigns/1")
    started = time.monotonic()
    answer = await api.get("/dialer/campaigns/1")
    took = time.monotonic() - started
    size = len(answer.content)
    assert answer.json()["id"] == 1
    assert took >= size / 100 * 0.8, (took, size)  # about a second per 100 bytes


async def test_huge_answer_is_padded_to_the_size_asked(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    simulator.faults.set(huge_mb=2, path_prefix="/dialer/campaigns/1")
    answer = await api.get("/dialer/campaigns/1")
    assert 2 * 1024 * 1024 * 0.99 <= len(answer.content) <= 2 * 1024 * 1024 * 1.01
    body = answer.json()
    assert body["id"] == 1 and body["padding"][0] == {"number": "+420601000000", "attributes": []}


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"after_status": 200}, "after_status: must be an HTTP error status 400..599"),
        ({"status": 500, "after_status": 504}, "status, after_status: give one of them"),
        ({"drip": -1}, "drip: must be a number >= 0"),
        ({"huge_mb": 5000}, "huge_mb: at most 1024"),
        ({"login_page": "yes"}, "login_page: must be an integer >= 0"),
    ],
)
async def test_new_faults_are_validated(
    api: httpx.AsyncClient, body: dict[str, Any], problem: str
) -> None:
    answer = await api.post("/_sim/faults", json=body)
    assert answer.status_code == 400
    assert answer.json()["message"] == problem


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": 200}, "status"),
        ({"latency": -1}, "latency"),
        ({"drop": "2"}, "drop"),
        ({"count": -1, "status": 500}, "count"),
        ({"bogus": 1}, "bogus"),
    ],
)
async def test_bad_fault_settings_are_400(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/_sim/faults", json=body)
    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{field}: ")


# ---- request log and state view ----------------------------------------------------------------
async def test_request_log_records_api_requests_only(
    simulator: RunningSimulator,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    simulator.requests.clear()
    before = time.time()
    await api.put("/dialer/campaigns/1/control", json={"command": "pause"})
    await api.get("/_sim/state")
    await api.get("/dialer/campaigns/1")
    log = (await api.get("/_sim/requests")).json()
    assert [(r["method"], r["path"], r["json"], r["status"]) for r in log] == [
        ("PUT", "/dialer/campaigns/1/control", {"command": "pause"}, 409),
        ("GET", "/dialer/campaigns/1", None, 200),
    ]
    assert before <= log[0]["ts"] <= log[1]["ts"] <= time.time()
    assert log == simulator.requests


async def test_request_log_never_holds_the_password(
    simulator: RunningSimulator,  # noqa: F811
    client: httpx.AsyncClient,
) -> None:
    await get_token(client)
    assert simulator.requests == [
        {
            "method": "POST",
            "path": "/token",
            "json": None,
            "ts": simulator.requests[0]["ts"],
            "status": 200,
        }
    ]
    assert SIM_PASSWORD not in repr(simulator.requests)


async def test_sim_state_endpoint(api: httpx.AsyncClient) -> None:
    await api.put("/dialer/campaigns/1/control", json={"command": "start"})
    state = (await api.get("/_sim/state")).json()
    assert [c["state"] for c in state["campaigns"]] == ["running", "paused"]
    assert [c["numbersCount"] for c in state["callLists"]] == [3, 2]


# ---- command line -------------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGINT delivery")
async def test_main_prints_url_and_exits_cleanly_on_ctrl_c() -> None:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator.server",
        "--port",
        "0",
        "--username",
        "cli@example.com",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert "cli@example.com" in line
        url = line.split(" at ", 1)[1].split(" ", 1)[0]
        async with httpx.AsyncClient(base_url=url) as c:
            form = {**PASSWORD_FORM, "username": "cli@example.com"}
            assert (await c.post("/token", data=form)).status_code == 200
        proc.send_signal(signal.SIGINT)
        rc = await asyncio.wait_for(proc.wait(), 20)
        stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
        assert rc == 0, stderr
        assert "Traceback" not in stderr
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
