"""The tests' fake Slack: the product's Slack stand-in plus what only tests need.

Slack's behaviour (method answers, views, files, messages, recording every call without the
token) lives in simulator/slack_standin.py, shared with `dialer-bot demo`. This layer adds fault
injection (429 with Retry-After, 5xx, slow answers), awaiting calls, readable failure output,
and a lenient directory: tests address any user or channel id and mint their own trigger_ids.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from simulator.slack_standin import DEFAULT_TZ, Call, Intercepted, SlackStandIn

__all__ = ["Call", "FakeSlack"]


@dataclass
class _Fault:
    count: int
    status: int
    retry_after: int | None
    error: str
    html: bool
    fields: dict[str, Any]


class FakeSlack(SlackStandIn):
    """Stands in for https://slack.com/api/ and for response_url endpoints."""

    def __init__(self, bot_user_id: str = "UBOT", team_id: str = "T0001") -> None:
        super().__init__(bot_user_id=bot_user_id, team_id=team_id)
        self.scopes: list[str] | None = None  # when set, sent as x-oauth-scopes, as Slack does
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, float] = {}

    @classmethod
    async def start(cls, bot_user_id: str = "UBOT", team_id: str = "T0001") -> FakeSlack:
        """Start listening on 127.0.0.1 with an OS-chosen port (parallel test runs never clash)."""
        fake = cls(bot_user_id=bot_user_id, team_id=team_id)
        await fake.listen()
        return fake

    # ---------------------------------------------------------------- test setup

    def add_file(self, file_id: str, name: str, content: bytes, filetype: str = "csv") -> None:
        """Register an uploaded file for files.info and GET /files/<id>."""
        self.store_file(name, content, file_id=file_id, filetype=filetype)

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        tz: str = DEFAULT_TZ,
        **extra: Any,
    ) -> None:
        """Override what users.info answers for one user (default is derived from the id)."""
        self.users[user_id] = name or f"user-{user_id.lower()}"
        self.profiles[user_id] = {"real_name": real_name or f"User {user_id}", "tz": tz, **extra}

    def fail_next(
        self,
        method: str,
        *,
        count: int = 1,
        status: int = 429,
        retry_after: int | None = 1,
        error: str = "ratelimited",
        html: bool = False,
        **fields: Any,
    ) -> None:
        """Make the next `count` calls to `method` fail.

        429 carries a Retry-After header; `html=True` answers an HTML page (what a proxy or
        Slack's edge sends on 5xx) instead of `{"ok": false, "error": error}`. status=200 gives
        a plain Slack API error such as `user_not_found`. `method` may be "response_url".
        `fields` join the error body (missing_scope's `needed`).
        """
        self._faults.setdefault(method, []).append(
            _Fault(count, status, retry_after if status == 429 else None, error, html, fields)
        )

    def set_delay(self, method: str, seconds: float) -> None:
        """Answer `method` only after `seconds` (0 removes the delay)."""
        if seconds <= 0:
            self._delays.pop(method, None)
        else:
            self._delays[method] = seconds

    def clear(self) -> None:
        """Forget recorded calls and pending faults/delays (files, users and views stay)."""
        self.calls.clear()
        self._faults.clear()
        self._delays.clear()

    # ---------------------------------------------------------------- assertions

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def _matching(self, method: str, predicate: Callable[[Call], bool]) -> list[Call]:
        out = []
        for c in self.calls:
            if c.method != method:
                continue
            try:
                ok = predicate(c)
            except (KeyError, TypeError, IndexError, AttributeError):
                ok = False  # a predicate that cannot look at this call does not match it
            if ok:
                out.append(c)
        return out

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] = lambda c: True,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the harness API tests call
    ) -> list[Call]:
        """Wait until `count` calls to `method` match `predicate`; return all matching calls.

        Calls recorded before this was called count too. Woken by every recorded call, so it
        returns as soon as the call arrives (no polling).
        """

        def enough() -> bool:
            return len(self._matching(method, predicate)) >= count

        try:
            async with self._calls_changed:
                await asyncio.wait_for(self._calls_changed.wait_for(enough), timeout)
        except TimeoutError:
            got = len(self._matching(method, predicate))
            raise AssertionError(
                f"waited {timeout}s for {count} matching {method!r} call(s), got {got}. "
                f"Recorded calls:\n{self.describe()}"
            ) from None
        return self._matching(method, predicate)

    def describe(self) -> str:
        """One line per recorded call, for failure messages."""
        if not self.calls:
            return "  (none)"
        lines = []
        for i, c in enumerate(self.calls):
            args = json.dumps(c.args, default=str)
            if len(args) > 300:
                args = args[:300] + "…"
            lines.append(f"  [{i}] {c.method} -> {c.status} {args}")
        return "\n".join(lines)

    @staticmethod
    def texts(call: Call | dict[str, Any], *, mrkdwn_only: bool = False) -> str:
        """All text of a message / view / response_url body, newline-joined, for assertions.

        Collects the top-level `text` and every `text` inside blocks, fields, elements,
        attachments, options, titles, and the view. With `mrkdwn_only`, only text Slack parses
        for mentions (top-level text and mrkdwn objects) — what escaping checks should look at.
        """
        args = call.args if isinstance(call, Call) else call
        out: list[str] = []
        if isinstance(args.get("text"), str):
            out.append(args["text"])
        for key, value in args.items():
            if key in ("text", "key", "channel", "ts", "user", "response_type"):
                continue
            out.extend(_walk_texts(value, mrkdwn_only))
        return "\n".join(out)

    @staticmethod
    def buttons(call: Call | dict[str, Any], action_id: str) -> list[dict[str, Any]]:
        """The button elements with `action_id` in a message's (or view's) blocks."""
        args = call.args if isinstance(call, Call) else call
        blocks = args.get("blocks") or (args.get("view") or {}).get("blocks") or []
        return [
            el
            for block in blocks
            for el in block.get("elements") or []
            if isinstance(el, dict) and el.get("action_id") == action_id
        ]

    @staticmethod
    def button_values(call: Call | dict[str, Any], action_id: str) -> list[str]:
        return [str(el.get("value")) for el in FakeSlack.buttons(call, action_id)]

    # ---------------------------------------------------------------- the stand-in's hooks

    def _user_profile(self, user_id: str) -> dict[str, Any] | None:
        """Every user exists; unless added, its names are derived from the id."""
        return super()._user_profile(user_id) or {
            "name": f"user-{user_id.lower()}",
            "real_name": f"User {user_id}",
            "tz": DEFAULT_TZ,
        }

    def _channel_name(self, channel: str) -> str | None:
        return super()._channel_name(channel) or f"chan-{channel.lower()}"

    def _trigger_issued(self, trigger: str) -> bool:
        return True  # the driver mints trigger_ids; each still works only once

    def _intercept(self, method: str) -> Intercepted | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.count -= 1
        if fault.count <= 0:
            queue.pop(0)
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        body = {"ok": False, "error": fault.error, **fault.fields}
        if fault.html:
            page = f"<html><body><h1>{fault.status}</h1><p>{fault.error}</p></body></html>"
            resp = web.Response(
                status=fault.status, text=page, content_type="text/html", headers=headers
            )
            return resp, {}
        return web.json_response(body, status=fault.status, headers=headers), body

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        resp = await super()._handle_api(request)
        if self.scopes is not None:
            resp.headers["x-oauth-scopes"] = ",".join(self.scopes)
        return resp

    async def _pause(self, method: str) -> None:
        delay = self._delays.get(method)
        if delay:
            await asyncio.sleep(delay)


def _walk_texts(node: Any, mrkdwn_only: bool) -> Iterator[str]:
    if isinstance(node, dict):
        text = node.get("text")
        if isinstance(text, str) and not (mrkdwn_only and node.get("type") == "plain_text"):
            yield text
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                continue
            if key in ("private_metadata", "callback_id", "hash", "id", "external_id"):
                continue
            yield from _walk_texts(value, mrkdwn_only)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_texts(item, mrkdwn_only)
