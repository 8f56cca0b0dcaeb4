"""DialerClient against the real simulator: auth, typed results, errors, retry policy."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bot.dialer import (
    ALLOWED_COMMANDS,
    COMMANDS,
    PATHS,
    CallList,
    Campaign,
    ControlResult,
    CreateResult,
    DialerClient,
    DialerError,
    Endpoint,
    IvrApp,
    RescheduleRule,
)
from simulator.server import SimulatorConfig, start_simulator
from tests.sim_fixtures import simulator  # noqa: F401

USERNAME = "demo@example.com"
PASSWORD = "demo"

CAMPAIGN_BODY: dict[str, Any] = {
    "name": "Summer outage",
    "callerId": "+420123456789",
    "activePeriod": {"startTime": "08:00", "endTime": "18:30", "weekDays": [1, 2, 3, 4, 5]},
    "callLists": [1],
    "rescheduleRules": [{"status": "RS_BUSY", "retryAfter": 120, "maxAttempts": 2}],
    "ivr": "TUxw53xCBf",
    "endpoint": {"type": "queue", "boostFactor": 1.5, "maxWaitingCalls": 3, "queue": "green"},
}


class Recorder(httpx.AsyncBaseTransport):
    """Wraps the real transport and remembers what the client sent (to count requests)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[tuple[str, str, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path, await request.aread()))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.sent if (m, p) == (method, path))

    def grants(self) -> list[str]:
        return [
            parse_qs(body.decode())["grant_type"][0] for _, p, body in self.sent if p == "/token"
        ]


class FakeClock:
    """An injectable monotonic clock so token expiry is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """Injectable backoff sleep: records delays and can run a hook (e.g. clear a fault)."""

    def __init__(self, hook: Any = None) -> None:
        self.delays: list[float] = []
        self.hook = hook

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if self.hook is not None:
            self.hook()
        await asyncio.sleep(0)


def sim_log(sim: Any, method: str, path: str) -> list[dict[str, Any]]:
    return [r for r in sim.requests if r["method"] == method and r["path"] == path]


def make_client(sim: Any, **kwargs: Any) -> DialerClient:
    kwargs.setdefault("username", USERNAME)
    kwargs.setdefault("password", PASSWORD)
    kwargs.setdefault("sleep", Sleeps())
    return DialerClient(sim.url, sim.auth_url, **kwargs)


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    rec = Recorder()
    yield rec
    await rec.aclose()


@pytest.fixture
async def client(simulator: Any, recorder: Recorder) -> AsyncIterator[DialerClient]:  # noqa: F811
    async with make_client(simulator, transport=recorder) as c:
        yield c


@pytest.fixture
async def short_sim() -> AsyncIterator[Any]:
    """A simulator whose tokens live 60 s, so the 10 % refresh margin (6 s) applies."""
    sim = await start_simulator(
        SimulatorConfig(
            host="127.0.0.1",
            port=0,
            username=USERNAME,
            password=PASSWORD,
            token_lifetime=60,
            seed=True,
        )
    )
    yield sim
    await sim.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- auth -----------------------------------------------------------------------------


async def test_login_uses_password_grant_and_bearer_token(
    simulator: Any,  # noqa: F811
    client: DialerClient,
    recorder: Recorder,
) -> None:
    apps = await client.list_ivr()
    assert [a.id for a in apps][:1] == ["TUxw53xCBf"]
    assert recorder.grants() == ["password"]
    form = parse_qs(recorder.sent[0][2].decode())
    assert form["client_id"] == ["api"]
    assert form["username"] == [USERNAME]
    assert [r["status"] for r in sim_log(simulator, "POST", "/token")] == [200]
    assert [r["status"] for r in sim_log(simulator, "GET", "/ivr")] == [200]
    # The token is reused: a second call fetches no new one.
    await client.list_call_lists()
    assert recorder.count("POST", "/token") == 1


async def test_token_refreshed_before_expiry(short_sim: Any, recorder: Recorder) -> None:
    clock = FakeClock()
    async with make_client(short_sim, transport=recorder, clock=clock) as c:
        await c.list_ivr()
        clock.now += 53  # 60 s token, 6 s margin: still fresh
        await c.list_ivr()
        assert recorder.grants() == ["password"]
        clock.now += 2  # inside the margin: refresh before the dialer would reject it
        await c.list_ivr()
        assert recorder.grants() == ["password", "refresh_token"]
        assert [r["status"] for r in sim_log(short_sim, "GET", "/ivr")] == [200, 200, 200]


async def test_failed_refresh_falls_back_to_password_grant(
    short_sim: Any, recorder: Recorder
) -> None:
    clock = FakeClock()
    async with make_client(short_sim, transport=recorder, clock=clock) as c:
        await c.list_ivr()
        c._auth._refresh = "not-a-refresh-token"  # simulate a revoked refresh token
        clock.now += 59
        await c.list_ivr()
    assert recorder.grants() == ["password", "refresh_token", "password"]
    assert [r["status"] for r in sim_log(short_sim, "POST", "/token")] == [200, 400, 200]


async def test_401_renews_token_once_and_retries(
    simulator: Any,  # noqa: F811
    client: DialerClient,
    recorder: Recorder,
) -> None:
    await client.list_campaigns()
    async with httpx.AsyncClient() as admin:
        (await admin.post(simulator.url + "/_sim/expire-tokens")).raise_for_status()
    campaigns = await client.list_campaigns()
    assert {c.id for c in campaigns} >= {1, 2}
    assert [r["status"] for r in sim_log(simulator, "GET", "/dialer/campaigns")] == [200, 401, 200]
    assert len(sim_log(simulator, "POST", "/token")) == 2
    assert recorder.grants() == ["password", "refresh_token"]


async def test_401_on_control_is_retried_once_because_it_was_not_executed(
    simulator: Any,  # noqa: F811
    client: DialerClient,
) -> None:
    await client.get_campaign(1)
    async with httpx.AsyncClient() as admin:
        (await admin.post(simulator.url + "/_sim/expire-tokens")).raise_for_status()
    result = await client.control(1, "start")
    assert result.state == "running"
    puts = sim_log(simulator, "PUT", "/dialer/campaigns/1/control")
    assert [r["status"] for r in puts] == [401, 200]


async def test_concurrent_401s_share_one_renewal(
    simulator: Any,  # noqa: F811
    client: DialerClient,
    recorder: Recorder,
) -> None:
    await client.list_ivr()
    async with httpx.AsyncClient() as admin:
        (await admin.post(simulator.url + "/_sim/expire-tokens")).raise_for_status()
    await asyncio.gather(*(client.list_ivr() for _ in range(10)))
    assert recorder.count("POST", "/token") == 2


async def test_bad_credentials_give_clear_message(simulator: Any) -> None:  # noqa: F811
    async with make_client(simulator, password="wrong-secret-pw") as c:
        with pytest.raises(DialerError) as info:
            await c.list_ivr()
    err = info.value
    assert err.status == 401
    assert err.kind == "http"
    assert err.message == (
        "the dialer rejected the username or password (invalid_grant: Invalid user credentials); "
        "check DIALER_USERNAME and DIALER_PASSWORD"
    )
    assert "wrong-secret-pw" not in str(err) + repr(err) + repr(c)
    assert sim_log(simulator, "GET", "/ivr") == []  # no API call without a token


async def test_static_token_makes_no_auth_calls(
    simulator: Any,  # noqa: F811
    recorder: Recorder,
) -> None:
    async with httpx.AsyncClient() as raw:
        resp = await raw.post(
            simulator.auth_url,
            data={
                "client_id": "api",
                "grant_type": "password",
                "username": USERNAME,
                "password": PASSWORD,
            },
        )
    token = resp.json()["access_token"]
    async with DialerClient(
        simulator.url, simulator.auth_url, token=token, transport=recorder
    ) as c:
        assert len(await c.list_call_lists()) == 2
        assert token not in repr(c)
    assert recorder.count("POST", "/token") == 0
    assert len(sim_log(simulator, "POST", "/token")) == 1  # only ours above


async def test_rejected_static_token_names_dialer_token(simulator: Any) -> None:  # noqa: F811
    secret = "static-secret-value-123"
    async with DialerClient(simulator.url, simulator.auth_url, token=secret) as c:
        with pytest.raises(DialerError) as info:
            await c.list_ivr()
    err = info.value
    assert err.status == 401
    assert "static DIALER_TOKEN was rejected" in str(err)
    assert secret not in str(err) + repr(err) + repr(c)
    assert len(sim_log(simulator, "GET", "/ivr")) == 1  # a static token is not "renewed"
    assert sim_log(simulator, "POST", "/token") == []


async def test_concurrent_calls_share_one_token_fetch(
    simulator: Any,  # noqa: F811
    client: DialerClient,
    recorder: Recorder,
) -> None:
    # read_object, the doctor's unshared read: concurrent get_campaign calls and listings
    # share one GET (tested below)
    results = await asyncio.gather(*(client.read_object("campaign", 1) for _ in range(20)))
    assert all(body["id"] == 1 for _, body in results)
    assert len(sim_log(simulator, "POST", "/token")) == 1
    assert recorder.count("POST", "/token") == 1
    assert len(sim_log(simulator, "GET", "/dialer/campaigns/1")) == 20


def test_constructor_requires_credentials() -> None:
    with pytest.raises(ValueError, match="token= or both username= and password="):
        DialerClient("http://127.0.0.1:1", "http://127.0.0.1:1/token", username="x")


# ---- endpoints: typed results -----------------------------------------------------------


async def test_list_ivr_typed(client: DialerClient) -> None:
    apps = await client.list_ivr()
    by_id = {a.id: a for a in apps}
    assert by_id["TUxw53xCBf"].name == "Outage announcement"
    assert isinstance(by_id["Q7rPz2mK1a"], IvrApp)
    assert by_id["TUxw53xCBf"].raw["id"] == "TUxw53xCBf"


async def test_call_lists_typed(client: DialerClient) -> None:
    lists = await client.list_call_lists()
    assert [(c.id, c.name, c.numbers_count) for c in lists] == [
        (1, "Prague customers", 3),
        (2, "Brno outage area", 2),
    ]
    one = await client.get_call_list(2)
    assert isinstance(one, CallList)
    assert (one.id, one.name, one.numbers_count) == (2, "Brno outage area", 2)


async def test_create_call_list(simulator: Any, client: DialerClient) -> None:  # noqa: F811
    numbers = [{"number": "+420601234567", "attributes": []}, {"number": "+420602345678"}]
    numbers[1]["attributes"] = []
    result = await client.create_call_list("Ostrava", numbers)
    assert isinstance(result, CreateResult)
    assert result.numbers_count == 2
    assert result.message == "Call list successfully created"
    fetched = await client.get_call_list(result.id)
    assert (fetched.name, fetched.numbers_count) == ("Ostrava", 2)
    post = sim_log(simulator, "POST", "/dialer/call-lists")[0]
    assert post["json"] == {"name": "Ostrava", "numbers": numbers}


async def test_campaigns_typed(client: DialerClient) -> None:
    campaigns = {c.id: c for c in await client.list_campaigns()}
    spring = campaigns[1]
    assert isinstance(spring, Campaign)
    assert (spring.name, spring.state, spring.ivr, spring.call_lists) == (
        "Spring promo",
        "stopped",
        "TUxw53xCBf",
        (1,),
    )
    outage = await client.get_campaign(2)
    assert outage.state == "paused"
    assert outage.call_lists == (2,)
    assert outage.endpoint.type == "queue"
    assert outage.endpoint.queue == "green"
    assert all(isinstance(r, RescheduleRule) for r in outage.reschedule_rules)
    assert isinstance(outage.week_days, tuple)
    assert outage.allowed_commands == ALLOWED_COMMANDS["paused"]


async def test_create_and_update_campaign(client: DialerClient) -> None:
    created = await client.create_campaign(CAMPAIGN_BODY)
    assert created.message == "Campaign successfully created"
    got = await client.get_campaign(created.id)
    assert got.name == "Summer outage"
    assert got.caller_id == "+420123456789"
    assert (got.start_time, got.end_time, got.week_days) == ("08:00", "18:30", (1, 2, 3, 4, 5))
    assert got.reschedule_rules == (RescheduleRule("RS_BUSY", 120, 2),)
    assert got.endpoint == Endpoint("queue", 1.5, 3, "green")
    assert got.state == "stopped"

    updated = await client.update_campaign(created.id, {**CAMPAIGN_BODY, "name": "Renamed"})
    assert (updated.id, updated.message) == (created.id, "Campaign successfully updated")
    assert (await client.get_campaign(created.id)).name == "Renamed"


async def test_control_state_machine(client: DialerClient) -> None:
    started = await client.control(1, "start")
    assert isinstance(started, ControlResult)
    assert (started.id, started.state) == (1, "running")
    assert (await client.get_campaign(1)).state == "running"
    assert (await client.control(1, "pause")).state == "paused"
    assert (await client.control(1, "unpause")).state == "running"
    assert (await client.control(1, "reload")).state == "running"
    removed = await client.control(1, "remove")
    assert removed.state == "removed"
    with pytest.raises(DialerError) as info:
        await client.get_campaign(1)
    assert info.value.status == 404


async def test_bad_arguments_fail_before_any_request(
    client: DialerClient, recorder: Recorder
) -> None:
    with pytest.raises(ValueError, match="unknown dialer command"):
        await client.control(1, "explode")
    with pytest.raises(ValueError, match="non-negative integer"):
        await client.get_campaign("1/control")  # type: ignore[arg-type]
    assert recorder.sent == []
    assert set(COMMANDS) == {"start", "pause", "unpause", "reload", "remove"}
    assert PATHS["control"] == "/dialer/campaigns/{id}/control"


# ---- error paths ------------------------------------------------------------------------


async def test_400_message_names_field(client: DialerClient) -> None:
    with pytest.raises(DialerError) as info:
        await client.create_campaign({**CAMPAIGN_BODY, "callerId": "call me"})
    err = info.value
    assert (err.status, err.kind, err.sent, err.method, err.path) == (
        400,
        "http",
        True,
        "POST",
        "/dialer/campaigns",
    )
    assert err.message.startswith("callerId:")
    assert str(err).startswith("The dialer answered 400 to POST /dialer/campaigns: callerId:")


async def test_404_unknown_campaign(client: DialerClient) -> None:
    with pytest.raises(DialerError) as info:
        await client.get_campaign(999)
    assert info.value.status == 404
    assert str(info.value) == (
        "The dialer answered 404 to GET /dialer/campaigns/999: Campaign 999 not found"
    )


async def test_409_command_not_allowed(client: DialerClient) -> None:
    with pytest.raises(DialerError) as info:
        await client.control(1, "pause")  # campaign 1 is stopped
    err = info.value
    assert (err.status, err.sent) == (409, True)
    assert "campaign 1" in err.message
    assert str(err) == f"The dialer answered 409 to PUT /dialer/campaigns/1/control: {err.message}"


# ---- retry policy ----------------------------------------------------------------------


async def test_get_retried_on_503(simulator: Any, recorder: Recorder) -> None:  # noqa: F811
    sleeps = Sleeps()
    async with make_client(simulator, transport=recorder, sleep=sleeps, retry_base=0.05) as c:
        await c.list_ivr()  # log in first, so the fault hits the GET
        simulator.faults.set(status=503, count=1, path_prefix="/dialer/campaigns")
        campaigns = await c.list_campaigns()
    assert len(campaigns) == 2
    assert [r["status"] for r in sim_log(simulator, "GET", "/dialer/campaigns")] == [503, 200]
    assert sleeps.delays == [0.05]


async def test_get_gives_up_after_max_attempts(simulator: Any) -> None:  # noqa: F811
    sleeps = Sleeps()
    async with make_client(simulator, sleep=sleeps, retry_base=0.05) as c:
        await c.list_ivr()
        simulator.faults.set(status=502, count=10, path_prefix="/dialer/call-lists")
        with pytest.raises(DialerError) as info:
            await c.list_call_lists()
    assert info.value.status == 502
    assert len(sim_log(simulator, "GET", "/dialer/call-lists")) == 3
    assert sleeps.delays == [0.05, 0.1]  # exponential backoff


async def test_get_retried_on_timeout(simulator: Any, recorder: Recorder) -> None:  # noqa: F811
    sleeps = Sleeps(hook=simulator.faults.clear)  # the dialer recovers before the retry
    async with make_client(simulator, transport=recorder, sleep=sleeps, timeout=0.3) as c:
        await c.list_ivr()
        simulator.faults.set(latency=1.0, path_prefix="/dialer/campaigns")
        campaign = await c.get_campaign(2)
    assert campaign.name == "Outage Brno"
    assert recorder.count("GET", "/dialer/campaigns/2") == 2
    assert len(sleeps.delays) == 1


async def test_get_retried_on_dropped_connection(simulator: Any) -> None:  # noqa: F811
    async with make_client(simulator) as c:
        await c.list_ivr()
        simulator.faults.set(drop=1, path_prefix="/dialer/call-lists")
        assert len(await c.list_call_lists()) == 2


async def test_control_not_retried_on_503(simulator: Any, recorder: Recorder) -> None:  # noqa: F811
    async with make_client(simulator, transport=recorder) as c:
        await c.get_campaign(1)
        simulator.faults.set(status=503, count=1, path_prefix="/dialer/campaigns/1/control")
        with pytest.raises(DialerError) as info:
            await c.control(1, "start")
    # a gateway status: the dialer may have acted before it gave up
    assert (info.value.status, info.value.sent) == (503, None)
    assert len(sim_log(simulator, "PUT", "/dialer/campaigns/1/control")) == 1
    assert recorder.count("PUT", "/dialer/campaigns/1/control") == 1


async def test_control_not_retried_on_timeout(simulator: Any, recorder: Recorder) -> None:  # noqa: F811
    async with make_client(simulator, transport=recorder, timeout=0.3) as c:
        await c.get_campaign(1)
        simulator.faults.set(latency=1.0, path_prefix="/dialer/campaigns/1/control")
        with pytest.raises(DialerError) as info:
            await c.control(1, "start")
        simulator.faults.clear()
    err = info.value
    assert (err.kind, err.status, err.sent) == ("timeout", None, None)
    assert "may or may not have carried out" in str(err)
    assert recorder.count("PUT", "/dialer/campaigns/1/control") == 1


async def test_create_not_retried_on_dropped_connection(
    simulator: Any,  # noqa: F811
    recorder: Recorder,
) -> None:
    async with make_client(simulator, transport=recorder) as c:
        await c.list_ivr()
        simulator.faults.set(drop=1, path_prefix="/dialer/campaigns")
        with pytest.raises(DialerError) as info:
            await c.create_campaign(CAMPAIGN_BODY)
    assert (info.value.kind, info.value.sent) == ("connection", None)
    assert recorder.count("POST", "/dialer/campaigns") == 1


async def test_connection_refused_is_not_sent() -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    sleeps = Sleeps()
    async with DialerClient(url, url + "/token", token="t", sleep=sleeps) as c:
        with pytest.raises(DialerError) as info:
            await c.control(5, "start")
    err = info.value
    assert (err.kind, err.sent, err.status) == ("connection", False, None)
    assert err.message == f"could not connect to the dialer at {url}: connection refused"
    assert sleeps.delays == []


async def test_connection_refused_on_login_is_retried_for_gets() -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    sleeps = Sleeps()
    async with DialerClient(url, url + "/token", username="u", password="p", sleep=sleeps) as c:
        with pytest.raises(DialerError) as info:
            await c.list_ivr()
    assert (info.value.kind, info.value.sent, info.value.path) == ("connection", False, "/token")
    assert len(sleeps.delays) == 2


def _mock(handler: Any, **kwargs: Any) -> DialerClient:
    return DialerClient(
        "http://dialer.test",
        "http://dialer.test/token",
        token="t",
        transport=httpx.MockTransport(handler),
        **kwargs,
    )


async def test_429_honours_retry_after_capped(simulator: Any) -> None:  # noqa: F811
    sleeps = Sleeps()
    async with make_client(simulator, sleep=sleeps) as c:
        await c.list_ivr()
        simulator.faults.set(status=429, count=1, retry_after=100, path_prefix="/ivr")
        await c.list_ivr()
        simulator.faults.set(status=429, count=1, retry_after=2, path_prefix="/ivr")
        await c.list_ivr()
    assert sleeps.delays == [10.0, 2.0]
    assert [r["status"] for r in sim_log(simulator, "GET", "/ivr")] == [200, 429, 200, 429, 200]


async def test_non_json_error_body_truncated() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="oops " + "x" * 1000)

    async with _mock(handler) as c:
        with pytest.raises(DialerError) as info:
            await c.create_call_list("a", [])
    assert info.value.status == 500
    assert info.value.message.startswith("oops xxx")
    assert len(info.value.message) <= 301


# ---- secrets and logging -----------------------------------------------------------------


async def test_no_secrets_in_repr_errors_or_logs(
    simulator: Any,  # noqa: F811
    client: DialerClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.dialer")
    await client.list_ivr()
    with pytest.raises(DialerError) as info:
        await client.get_campaign(404)
    access = client._auth._access
    refresh = client._auth._refresh
    assert access and refresh
    for secret in (access, refresh):
        assert secret not in repr(client)
        assert secret not in str(info.value) + repr(info.value)
        assert secret not in caplog.text
    assert "password=" not in caplog.text
    assert "GET /ivr -> 200" in caplog.text
    assert "GET /dialer/campaigns/404 -> 404" in caplog.text
    assert (
        repr(client)
        == f"DialerClient(base_url={simulator.url!r}, auth=password grant as {USERNAME!r})"
    )


def test_from_api_tolerates_missing_optional_fields() -> None:
    c = Campaign.from_api({"id": 7, "name": "x"})
    assert c.endpoint == Endpoint("phone", 1.0, 2, None)
    assert (c.week_days, c.call_lists, c.reschedule_rules, c.state) == ((), (), (), "unknown")
    assert c.raw == {"id": 7, "name": "x"}
    assert hash(c) == hash(Campaign.from_api({"id": 7, "name": "x", "extra": 1}))
    assert CallList.from_api({"id": "3"}).numbers_count is None
    assert IvrApp.from_api({"id": "a"}).routing == ()


class Gauge(httpx.AsyncBaseTransport):
    """Counts API requests in the transport at once (the token request excluded)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.now = 0
        self.peak = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        counted = request.url.path != "/token"
        self.now += counted
        self.peak = max(self.peak, self.now)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= counted

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_requests_in_flight_never_outnumber_the_pool(simulator: Any) -> None:  # noqa: F811
    gauge = Gauge()
    simulator.faults.set(latency=0.2)
    async with make_client(simulator, transport=gauge, max_connections=5) as client:
        answers = await asyncio.gather(*[client.read_object("campaign", 1) for _ in range(12)])
    assert [body["id"] for _, body in answers] == [1] * 12
    assert gauge.peak == 4  # reads get 4 of the 5 connections; one is kept for writes
    assert len(sim_log(simulator, "GET", "/dialer/campaigns/1")) == 12


async def test_a_control_command_does_not_wait_behind_reads(simulator: Any) -> None:  # noqa: F811
    simulator.faults.set(latency=0.3)
    async with make_client(simulator, max_connections=5) as client:
        await client.list_ivr()  # logged in
        reads = [asyncio.ensure_future(client.read_object("campaign", 2)) for _ in range(12)]
        await asyncio.sleep(0)  # the reads take their slots and queue first
        result = await client.control(1, "start")
        queued_reads_done = sum(r.done() for r in reads)
        await asyncio.gather(*reads)
    assert result.state == "running"
    assert queued_reads_done <= 4  # at most the first batch of reads finished before it
    order = [r["method"] for r in simulator.requests if r["path"].startswith("/dialer/")]
    assert order.index("PUT") < 5, order


async def test_waiting_longer_than_the_timeout_for_a_slot_is_not_sent(
    simulator: Any,  # noqa: F811
) -> None:
    async with make_client(simulator, max_connections=1, timeout=0.5, max_attempts=1) as client:
        await client.list_ivr()  # log in first, so only the two PUTs compete for the slot
        simulator.faults.set(latency=1.0)
        first, second = await asyncio.gather(
            client.control(1, "start"), client.control(2, "unpause"), return_exceptions=True
        )
    errors = [e for e in (first, second) if isinstance(e, DialerError)]
    assert len(errors) == 2  # the first times out in the dialer, the second waiting for a slot
    waited = [e for e in errors if e.sent is False]
    assert len(waited) == 1 and "no connection to the dialer became free" in waited[0].message
    assert len([r for r in simulator.requests if r["method"] == "PUT"]) == 1


async def test_concurrent_listings_share_one_request(simulator: Any) -> None:  # noqa: F811
    simulator.faults.set(latency=0.2)
    async with make_client(simulator) as client:
        results = await asyncio.gather(*[client.list_campaigns() for _ in range(25)])
        assert len(sim_log(simulator, "GET", "/dialer/campaigns")) == 1
        assert all([c.id for c in r] == [1, 2] for r in results)
        # Parsed once, but each caller has its own list: one sorting or trimming its
        # answer cannot change another's.
        assert len({id(r) for r in results}) == 25 and results[0][0] is results[1][0]
        results[0].clear()
        assert [c.id for c in results[1]] == [1, 2]
        await client.list_campaigns()  # the next one asks again
    assert len(sim_log(simulator, "GET", "/dialer/campaigns")) == 2


async def test_a_shared_listing_failure_reaches_every_caller(simulator: Any) -> None:  # noqa: F811
    simulator.faults.set(status=404, count=1, path_prefix="/dialer/campaigns")
    async with make_client(simulator) as client:
        results = await asyncio.gather(
            *[client.list_campaigns() for _ in range(5)], return_exceptions=True
        )
    assert all(isinstance(r, DialerError) and r.status == 404 for r in results)
    assert len(sim_log(simulator, "GET", "/dialer/campaigns")) == 1


class Gate(httpx.AsyncBaseTransport):
    """Real HTTP to the simulator, but the first answer to each held (method, path) is kept
    back until the test opens it: a request provably still in flight at a chosen moment."""

    def __init__(self, *held: tuple[str, str]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.arrived = {target: asyncio.Event() for target in held}
        self.opened = {target: asyncio.Event() for target in held}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        target = (request.method, request.url.path)
        if target in self.arrived and not self.arrived[target].is_set():
            self.arrived[target].set()
            await self.opened[target].wait()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


DETAIL_1 = ("GET", "/dialer/campaigns/1")
CONTROL_1 = ("PUT", "/dialer/campaigns/1/control")


async def test_concurrent_reads_of_one_campaign_share_one_get(simulator: Any) -> None:  # noqa: F811
    simulator.faults.set(latency=0.2)
    async with make_client(simulator) as client:
        ones, twos, lists = await asyncio.gather(
            asyncio.gather(*[client.get_campaign(1) for _ in range(25)]),
            asyncio.gather(*[client.get_campaign(2) for _ in range(5)]),
            asyncio.gather(*[client.get_call_list(1) for _ in range(10)]),
        )
        assert [c.id for c in ones] == [1] * 25 and [c.id for c in twos] == [2] * 5
        assert [c.name for c in lists] == ["Prague customers"] * 10
        assert len(sim_log(simulator, "GET", "/dialer/campaigns/1")) == 1
        assert len(sim_log(simulator, "GET", "/dialer/campaigns/2")) == 1
        assert len(sim_log(simulator, "GET", "/dialer/call-lists/1")) == 1
        await client.get_campaign(1)  # answered: nothing is kept, the next one asks again
    assert len(sim_log(simulator, "GET", "/dialer/campaigns/1")) == 2


async def test_a_read_after_a_command_does_not_join_a_read_from_before(
    simulator: Any,  # noqa: F811
) -> None:
    gate = Gate(DETAIL_1)
    async with make_client(simulator, transport=gate) as client:
        before = asyncio.ensure_future(client.get_campaign(1))
        await gate.arrived[DETAIL_1].wait()  # the dialer answered "stopped"; held back here
        assert (await client.control(1, "start")).state == "running"
        after = await asyncio.wait_for(client.get_campaign(1), 5)  # not waiting for `before`
        assert not before.done()
        gate.opened[DETAIL_1].set()
        assert (await before).state == "stopped"  # it was asked before the command
    assert after.state == "running"
    assert len(sim_log(simulator, "GET", "/dialer/campaigns/1")) == 2


async def test_a_read_begun_while_a_command_is_on_its_way_is_not_shared_after_it(
    simulator: Any,  # noqa: F811
) -> None:
    gate = Gate(CONTROL_1, DETAIL_1)
    async with make_client(simulator, transport=gate) as client:
        command = asyncio.ensure_future(client.control(1, "start"))
        await gate.arrived[CONTROL_1].wait()
        during = asyncio.ensure_future(client.get_campaign(1))
        await gate.arrived[DETAIL_1].wait()
        gate.opened[CONTROL_1].set()
        assert (await command).state == "running"
        after = await asyncio.wait_for(client.get_campaign(1), 5)
        assert not during.done()
        gate.opened[DETAIL_1].set()
        await during
    assert after.state == "running"
    assert len(sim_log(simulator, "GET", "/dialer/campaigns/1")) == 2


async def test_a_shared_read_failure_reaches_every_waiter_and_is_not_kept(
    simulator: Any,  # noqa: F811
) -> None:
    simulator.faults.set(latency=0.2, status=500, count=1, path_prefix="/dialer/campaigns/2")
    async with make_client(simulator, max_attempts=1) as client:
        results = await asyncio.gather(
            *[client.get_campaign(2) for _ in range(5)], return_exceptions=True
        )
        assert all(isinstance(r, DialerError) and r.status == 500 for r in results), results
        assert len(sim_log(simulator, "GET", "/dialer/campaigns/2")) == 1
        assert (await client.get_campaign(2)).name == "Outage Brno"  # asked again
    assert len(sim_log(simulator, "GET", "/dialer/campaigns/2")) == 2


async def test_a_cancelled_waiter_of_a_shared_read_spares_the_others(
    simulator: Any,  # noqa: F811
) -> None:
    simulator.faults.set(latency=0.2)
    async with make_client(simulator) as client:
        reads = [asyncio.ensure_future(client.get_campaign(1)) for _ in range(10)]
        await asyncio.sleep(0)
        reads[3].cancel()
        results = await asyncio.gather(*reads, return_exceptions=True)
    assert [r.id for i, r in enumerate(results) if i != 3] == [1] * 9
    assert isinstance(results[3], asyncio.CancelledError)
    assert len(sim_log(simulator, "GET", "/dialer/campaigns/1")) == 1
