"""The dialer boundary against answers neither simulator dialect gives: every reasonable
control body, list envelope, paging style and error shape (httpx.MockTransport serves
them, as the canned answers of another implementation of the guide)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bot.config import ConfigError, load_settings
from bot.dialer import Campaign, DialerClient, DialerError, allowed_for, validate_paths
from bot.dialer.api import COMMANDS, MAX_PAGES

Handler = Callable[[httpx.Request], httpx.Response]
CAMPAIGN = {"id": 7, "name": "Spring", "state": "RUNNING", "tenant": "t1", "stats": {"n": 1}}


def client(handler: Handler, **kw: Any) -> DialerClient:
    return DialerClient(
        "http://dialer.test",
        "http://dialer.test/token",
        token="static-secret",
        transport=httpx.MockTransport(handler),
        **kw,
    )


def routes(table: dict[tuple[str, str], Any]) -> tuple[Handler, list[str]]:
    """Answer (method, path) from ``table``: a Response, or a dict/list served as JSON."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.path + (f"?{request.url.query.decode()}" if request.url.query else "")
        seen.append(f"{request.method} {target}")
        answer = table.get((request.method, target), table.get((request.method, request.url.path)))
        if answer is None:
            return httpx.Response(404, json={"message": f"no route {target}"})
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)

    return handler, seen


CONTROL = ("PUT", "/dialer/campaigns/7/control")
DETAIL = ("GET", "/dialer/campaigns/7")


@pytest.mark.parametrize(
    ("answer", "message", "reads_again"),
    [
        (httpx.Response(204), "", True),
        (httpx.Response(200, json={"message": "Campaign started"}), "Campaign started", True),
        (httpx.Response(200, json={"id": 7, "message": "ok then"}), "ok then", True),
        (httpx.Response(202, json={"state": "RUNNING"}), "", False),
        (httpx.Response(200, text="OK"), "OK", True),
        (httpx.Response(200, json={"data": {"id": 7, "state": "RUNNING"}}), "", False),
    ],
    ids=["204", "message", "id+message", "state", "text", "data-wrapped"],
)
async def test_any_2xx_control_answer_is_success(
    answer: httpx.Response, message: str, reads_again: bool
) -> None:
    handler, seen = routes({CONTROL: answer, DETAIL: CAMPAIGN})
    async with client(handler) as c:
        result = await c.control(7, "start")
    assert (result.id, result.message, result.state) == (7, message, "RUNNING")
    assert result.known_state == "running"
    assert seen.count("GET /dialer/campaigns/7") == (1 if reads_again else 0)
    assert seen.count("PUT /dialer/campaigns/7/control") == 1  # never sent twice


async def test_accepted_control_whose_state_cannot_be_read() -> None:
    fail = httpx.Response(503, json={"message": "maintenance"})
    handler, seen = routes({CONTROL: httpx.Response(204), DETAIL: fail})
    async with client(handler, max_attempts=1) as c:
        result = await c.control(7, "pause")
    assert result.state is None
    assert "accepted (HTTP 204)" in result.state_note and "maintenance" in result.state_note
    assert result.message == result.state_note
    assert seen.count("PUT /dialer/campaigns/7/control") == 1


async def test_remove_answered_204_is_removed_without_a_read() -> None:
    handler, seen = routes({CONTROL: httpx.Response(204)})
    async with client(handler) as c:
        assert (await c.control(7, "remove")).state == "removed"
    assert seen == ["PUT /dialer/campaigns/7/control"]


async def test_create_without_id_finds_the_new_campaign_by_name() -> None:
    listed = [{"id": 3, "name": "Other"}, {"id": 9, "name": "Autumn"}]
    handler, _ = routes(
        {
            ("POST", "/dialer/campaigns"): httpx.Response(201, json={"message": "Created"}),
            ("GET", "/dialer/campaigns"): {"items": listed},
        }
    )
    async with client(handler) as c:
        result = await c.create_campaign({"name": "Autumn"})
    assert (result.id, result.message) == (9, "Created")


async def test_create_without_any_id_says_the_dialer_accepted_it() -> None:
    handler, _ = routes(
        {
            ("POST", "/dialer/campaigns"): httpx.Response(201, text="Created"),
            ("GET", "/dialer/campaigns"): [],
        }
    )
    async with client(handler) as c:
        with pytest.raises(DialerError) as info:
            await c.create_campaign({"name": "Autumn"})
    assert info.value.status == 201 and info.value.sent is True
    assert "accepted it (HTTP 201)" in info.value.message


async def test_update_answered_204_keeps_the_id() -> None:
    handler, _ = routes({("PUT", "/dialer/campaigns/7"): httpx.Response(204)})
    async with client(handler) as c:
        result = await c.update_campaign(7, {"name": "x"})
    assert (result.id, result.message) == (7, "")


@pytest.mark.parametrize(
    "body",
    [
        [CAMPAIGN],
        {"data": [CAMPAIGN], "total": 1},
        {"items": [CAMPAIGN], "count": 1},
        {"results": [CAMPAIGN], "next": None},
        {"campaigns": [CAMPAIGN]},
        {"data": {"items": [CAMPAIGN], "total": 1}},
    ],
    ids=["bare", "data", "items", "results", "resource", "nested"],
)
async def test_lists_in_any_common_envelope(body: Any) -> None:
    handler, _ = routes({("GET", "/dialer/campaigns"): body})
    async with client(handler) as c:
        [campaign] = await c.list_campaigns()
    assert (campaign.id, campaign.state, campaign.known_state) == (7, "RUNNING", "running")
    assert campaign.raw["tenant"] == "t1" and campaign.unmodelled() == ("stats", "tenant")


async def test_call_lists_under_their_own_name() -> None:
    handler, _ = routes({("GET", "/dialer/call-lists"): {"callLists": [{"id": 1, "name": "a"}]}})
    async with client(handler) as c:
        assert [x.name for x in await c.list_call_lists()] == ["a"]


async def test_pages_followed_by_next_link_and_by_page_arithmetic() -> None:
    page = {"id": 1, "name": "a"}
    handler, seen = routes(
        {
            ("GET", "/dialer/campaigns"): {"data": [page], "next": "/dialer/campaigns?cursor=b"},
            ("GET", "/dialer/campaigns?cursor=b"): {
                "data": [{"id": 2}],
                "next": "http://dialer.test/dialer/campaigns?cursor=c",
            },
            ("GET", "/dialer/campaigns?cursor=c"): {"data": [{"id": 3}], "next": None},
            ("GET", "/dialer/call-lists"): {"data": [page], "total": 3, "page": 1, "limit": 1},
            ("GET", "/dialer/call-lists?page=2&limit=1"): {"data": [{"id": 2}], "page": 2},
            ("GET", "/dialer/call-lists?page=3&limit=1"): {"data": [{"id": 3}], "page": 3},
        }
    )
    async with client(handler) as c:
        assert [x.id for x in await c.list_campaigns()] == [1, 2, 3]
        assert [x.id for x in await c.list_call_lists()] == [1, 2, 3]
    assert "GET /dialer/call-lists?page=3&limit=1" in seen


async def test_paging_stops_at_the_cap() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("page", "1"))
        return httpx.Response(200, json={"data": [{"id": n}], "page": n, "totalPages": 10**6})

    async with client(handler) as c:
        listing = await c.read_list("campaigns")
    assert len(listing.items) == MAX_PAGES and listing.capped


async def test_an_unknown_list_shape_is_one_clear_error() -> None:
    handler, _ = routes({("GET", "/dialer/campaigns"): {"rows": [CAMPAIGN], "n": 1}})
    async with client(handler) as c:
        with pytest.raises(DialerError) as info:
            await c.list_campaigns()
    assert "found an object with keys: n, rows" in info.value.message
    assert '"data"' in info.value.message


ERRORS = [
    ({"message": "Campaign is busy"}, "Campaign is busy", ()),
    (
        {"statusCode": 400, "message": ["name must be a string", "ivr is empty"], "error": "Bad"},
        "name must be a string; ivr is empty",
        (),
    ),
    (
        {
            "message": "Invalid body, check 'errors' property for more info.",
            "errors": [
                {"property": "name", "constraints": {"isUnique": "name already exists"}},
                {
                    "property": "activePeriod",
                    "children": [
                        {"property": "startTime", "constraints": {"matches": "must be HH:MM"}}
                    ],
                },
                {
                    "property": "rescheduleRules",
                    "children": [
                        {
                            "property": "0",
                            "children": [
                                {"property": "retryAfter", "constraints": {"min": "min 1"}}
                            ],
                        }
                    ],
                },
            ],
        },
        "activePeriod.startTime: must be HH:MM",
        (
            ("name", "name already exists"),
            ("activePeriod.startTime", "must be HH:MM"),
            ("rescheduleRules[0].retryAfter", "min 1"),
        ),
    ),
    ({"error": "invalid_token", "error_description": "Token expired"}, "Token expired", ()),
    ({"title": "Conflict", "detail": "already running"}, "Conflict: already running", ()),
]


@pytest.mark.parametrize(
    ("body", "fragment", "fields"),
    ERRORS,
    ids=["message", "nestjs", "class-validator", "keycloak", "rfc7807"],
)
async def test_errors_in_every_common_shape(body: Any, fragment: str, fields: Any) -> None:
    handler, _ = routes({CONTROL: httpx.Response(409, json=body)})
    async with client(handler) as c:
        with pytest.raises(DialerError) as info:
            await c.control(7, "start")
    assert fragment in info.value.message
    assert info.value.fields == fields


async def test_plain_text_and_html_errors() -> None:
    html = "<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>"
    handler, _ = routes(
        {
            CONTROL: httpx.Response(409, text="Campaign locked by supervisor"),
            DETAIL: httpx.Response(502, text=html, headers={"Content-Type": "text/html"}),
        }
    )
    async with client(handler, max_attempts=1) as c:
        with pytest.raises(DialerError) as text_err:
            await c.control(7, "pause")
        with pytest.raises(DialerError) as html_err:
            await c.get_campaign(7)
    assert text_err.value.message == "Campaign locked by supervisor"
    assert html_err.value.status == 502
    assert html_err.value.message == "an HTML page (502 Bad Gateway)"
    assert "<" not in str(html_err.value)


def test_models_keep_unknown_fields_and_survive_odd_ones() -> None:
    c = Campaign.from_api(
        {
            "id": "12",
            "state": {"name": "WRONG_TIME"},
            "callLists": [{"id": 4, "name": "x"}, "5", None],
            "activePeriod": {"weekDays": ["MON", 2]},
            "endpoint": {"boostFactor": "fast"},
            "ivr": {"id": "abc"},
            "owner": "x@example.com",
        }
    )
    assert (c.id, c.state, c.known_state) == (12, "WRONG_TIME", "wrong_time")
    assert (c.call_lists, c.week_days, c.ivr, c.endpoint.boost_factor) == ((4, 5), (2,), "abc", 1.0)
    assert c.unmodelled() == ("owner",) and c.raw["owner"] == "x@example.com"
    assert c.allowed_commands == ("pause", "reload", "remove")


def test_unknown_states_offer_every_command_and_known_ones_are_case_insensitive() -> None:
    assert allowed_for("ON_HOLD") == COMMANDS and allowed_for(None) == COMMANDS
    assert "pause" in allowed_for("ON_HOLD")
    assert allowed_for("Idle") == allowed_for("stopped") == ("start", "remove")
    assert allowed_for("active") == allowed_for("RUNNING")
    assert allowed_for("FINISHED") == allowed_for("completed")


def test_dialer_paths_override_and_validation() -> None:
    assert validate_paths('{"campaigns": "/v2/campaigns"}')["campaigns"] == "/v2/campaigns"
    for bad, says in [
        ("not json", "not JSON"),
        ('["x"]', "JSON object"),
        ('{"campaignz": "/x"}', "unknown path name"),
        ('{"campaign": "/x"}', "{id}"),
        ('{"campaigns": "x"}', "starting with /"),
    ]:
        with pytest.raises(ValueError, match=None) as info:
            validate_paths(bad)
        assert says in str(info.value), bad
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None, dialer_paths='{"campaign": "/c"}')
    assert "DIALER_PATHS" in str(err.value)


async def test_overridden_paths_are_used() -> None:
    handler, seen = routes({("GET", "/v2/campaigns"): {"data": [CAMPAIGN]}})
    paths = validate_paths(json.dumps({"campaigns": "/v2/campaigns"}))
    async with client(handler, paths=paths) as c:
        assert len(await c.list_campaigns()) == 1
    assert seen == ["GET /v2/campaigns"]
