"""The dialer half of `dialer-bot doctor`: read-only requests, reported field by field.

Only GETs and token requests are sent, through the one DialerClient, so the deployer sees
how the real API answers before anyone clicks Start. Each finding names the setting
(DIALER_PATHS, DIALER_*) or the table (bot/dialer/api.py) to change.
"""

from __future__ import annotations

import json
from typing import Any

from bot.dialer import PATHS as DEFAULT_PATHS
from bot.dialer import (
    CallList,
    Campaign,
    DialerClient,
    DialerError,
    IvrApp,
    allowed_for,
    canonical_state,
)
from bot.doctor.report import Report, Section, Verdict

MODELS: dict[str, Any] = {"ivr": IvrApp, "call_lists": CallList, "campaigns": Campaign}
TITLES = {"ivr": "IVR applications", "call_lists": "call lists", "campaigns": "campaigns"}


def _fix_path(name: str, client: DialerClient) -> str:
    source = "DIALER_PATHS" if client.paths[name] != DEFAULT_PATHS[name] else "bot/dialer/api.py"
    example = json.dumps({name: "/v2" + DEFAULT_PATHS[name]})
    return (
        f'The path may be wrong: PATHS["{name}"] is {client.paths[name]!r} (from {source}). '
        f"Set DIALER_PATHS to the real one, e.g. {example}, "
        f'or change PATHS["{name}"] in bot/dialer/api.py.'
    )


def _seconds(value: float | None) -> str:
    if value is None:
        return "no expiry given"
    return f"{value:g} s" + (f" ({value / 60:g} min)" if value >= 60 else "")


async def check_token(client: DialerClient, report: Report) -> bool:
    s = report.add(Section("Token"))
    try:
        info = await client.check_token()
    except DialerError as exc:
        s.problem(
            f"{exc}. Check DIALER_AUTH_URL and DIALER_USERNAME/DIALER_PASSWORD or DIALER_TOKEN"
        )
        return False
    if info.grant == "static":
        s.say("a static token (DIALER_TOKEN): no grant, no lifetime known")
        return True
    s.say(f"grant: {info.grant} at {client.auth_url}, token type {info.token_type or 'not given'}")
    s.say(f"access token lifetime: {_seconds(info.expires_in)}")
    if not info.refresh_offered:
        s.say("no refresh token offered: the bot logs in again when the token runs out")
        return True
    s.say(f"refresh token offered, lifetime {_seconds(info.refresh_expires_in)}")
    try:
        await client.check_refresh()
    except DialerError as exc:
        s.note(f"the refresh grant was refused ({exc.message}); the bot will log in again instead")
    else:
        s.say("refresh grant: works")
    return True


def _fields_seen(items: list[dict[str, Any]], model: Any) -> tuple[set[str], set[str], set[str]]:
    present: set[str] = set()
    for item in items:
        present.update(str(k) for k in item)
    known = set(model.FIELDS)
    return present & known, present - known, known - present


async def check_list(client: DialerClient, name: str, report: Report) -> list[Any] | None:
    """One listing: status, envelope, pages, fields understood or not; the parsed items."""
    path = client.paths[name]
    s = report.add(Section(f"GET {path} ({TITLES[name]})"))
    try:
        listing = await client.read_list(name)
    except DialerError as exc:
        s.problem(f"{exc}. {_fix_path(name, client) if exc.status in (404, 405) else ''}".strip())
        if exc.status == 200:
            s.note(
                "an unknown shape: add its key to LIST_KEYS or RESOURCE_KEYS in bot/dialer/api.py"
            )
        return None
    paged = f", {listing.pages} pages" if listing.pages > 1 else ""
    s.say(f"HTTP {listing.status}, {listing.envelope}{paged}, {len(listing.items)} item(s)")
    if listing.extra_keys:
        s.say(f"envelope fields ignored: {', '.join(listing.extra_keys)}")
    if listing.capped:
        s.note("stopped after MAX_PAGES pages (bot/dialer/api.py); the bot shows only those")
    model = MODELS[name]
    objects = [i for i in listing.items if isinstance(i, dict)]
    if len(objects) < len(listing.items):
        s.problem(f"{len(listing.items) - len(objects)} item(s) are not JSON objects")
    parsed: list[Any] = []
    for item in objects:
        try:
            parsed.append(model.from_api(item))
        except (KeyError, TypeError, ValueError) as exc:
            s.problem(f"an item the bot cannot read ({type(exc).__name__}: {exc}); it needs an id")
            break
    if objects:
        understood, unknown, missing = _fields_seen(objects, model)
        s.say(f"fields the bot understands: {', '.join(sorted(understood)) or 'none'}")
        s.say(f"fields it keeps but does not use: {', '.join(sorted(unknown)) or 'none'}")
        if missing:
            s.say(f"fields it models but no item has: {', '.join(sorted(missing))}")
    if name == "campaigns":
        _states(s, parsed)
    return parsed if not s.problems else None


def _states(s: Section, campaigns: list[Campaign]) -> None:
    seen = sorted({c.state for c in campaigns})
    for state in seen:
        known = canonical_state(state)
        reading = f"read as {known}" if known else "unknown to the bot: shown as given"
        s.say(f"state {state!r}: {reading}; offers {', '.join(allowed_for(state))}")
    if any(canonical_state(x) is None for x in seen):
        s.note(
            "a state the bot does not know offers every command and lets the dialer decide; "
            "add it to STATE_SYNONYMS in bot/dialer/api.py if it means a known one"
        )


async def check_detail(client: DialerClient, campaign: Campaign, report: Report) -> bool:
    path = client.paths["campaign"].format(id=campaign.id)
    s = report.add(Section(f"GET {path} (one campaign)"))
    try:
        status, body = await client.read_object("campaign", campaign.id)
    except DialerError as exc:
        fix = _fix_path("campaign", client) if exc.status in (404, 405) else ""
        s.problem(f"{exc}. {fix}".strip())
        return False
    try:
        got = Campaign.from_api(body)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        s.problem(f"the answer is not a campaign the bot can read ({type(exc).__name__}: {exc})")
        return False
    s.say(f"HTTP {status}, {'an object' if isinstance(body, dict) else type(body).__name__}")
    if isinstance(body, dict):
        understood, unknown, missing = _fields_seen([body], Campaign)
        s.say(f"fields the bot understands: {', '.join(sorted(understood)) or 'none'}")
        s.say(f"fields it keeps but does not use: {', '.join(sorted(unknown)) or 'none'}")
        if missing:
            s.say(f"fields it models but the answer lacks: {', '.join(sorted(missing))}")
    s.say(f"state {got.state!r}: {'read as ' + got.known_state if got.known_state else 'unknown'}")
    if got.id != campaign.id:
        s.problem(f"asked for #{campaign.id}, got #{got.id}: check PATHS['campaign']")
    return not s.problems


async def check_dialer(client: DialerClient, report: Report) -> None:
    """Every read the bot relies on, then a verdict per feature."""
    if not await check_token(client, report):
        report.verdicts += [Verdict(f, False, "no token") for f in FEATURES]
        return
    ivr = await check_list(client, "ivr", report)
    campaigns = await check_list(client, "campaigns", report)
    lists = await check_list(client, "call_lists", report)
    detail_ok: bool | None = None
    if campaigns:
        detail_ok = await check_detail(client, campaigns[0], report)
    elif campaigns is not None:
        report.add(Section("GET one campaign", skipped=True)).say("no campaign to read yet")
    listed = campaigns is not None and lists is not None and ivr is not None
    read = campaigns is not None and detail_ok is not False
    if detail_ok is None and campaigns is not None:
        detail_why = "not checked: no campaign yet"
    else:
        detail_why = "/dialer campaign N" if detail_ok else "the campaign list or detail failed"
    control = f"PUT {client.paths['control']}"
    report.verdicts += [
        Verdict("listing", listed, "/dialer campaigns, lists, ivr" if listed else "see above"),
        Verdict("detail", read, detail_why),
        Verdict(
            "control",
            read,
            f"{control} (the guide's) is not sent: doctor never writes; the bot takes any "
            "2xx as done and reads the new state from the campaign"
            if read
            else "the bot reads a campaign before and after each command, and could not",
        ),
        Verdict(
            "forms",
            listed,
            "the campaign form reads IVR apps, call lists and campaigns"
            if listed
            else "the form cannot open: a listing it needs failed",
        ),
    ]


FEATURES = ("listing", "detail", "control", "forms")
