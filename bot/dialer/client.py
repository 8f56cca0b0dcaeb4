"""The Voipex dialer API as typed async methods: the one client of the dialer.

Reads accept any reasonable shape (shapes.py): bare or wrapped lists, paged or not, extra
fields kept in ``.raw``. Writes count any 2xx as done: a missing id or state is looked up
with one more read, and when even that fails the result still says the dialer accepted it.
HTTP, auth and retries live in transport.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bot.dialer.api import COMMANDS, MAX_PAGES
from bot.dialer.models import (
    CallList,
    Campaign,
    ControlResult,
    CreateResult,
    DialerError,
    IvrApp,
)
from bot.dialer.shapes import Page, ShapeError, answer_fields, read_page, unwrap_object
from bot.dialer.transport import JsonFile, Transport

log = logging.getLogger("bot.dialer")


@dataclass(frozen=True)
class Listing:
    """A whole list as the dialer served it, for `dialer-bot doctor`: raw items, the envelope
    of the first page, the pages read, and the status of the first answer."""

    items: list[Any]
    envelope: str
    pages: int
    status: int
    extra_keys: tuple[str, ...] = ()
    capped: bool = False


class DialerClient(Transport):
    """Use as ``async with DialerClient(...) as c``; see Transport for the options."""

    # ---- reads -----------------------------------------------------------------------

    # Concurrent identical reads share one GET (see Transport._shared).

    def list_ivr(self) -> Awaitable[list[IvrApp]]:
        return self._list("ivr", IvrApp.from_api)

    def list_call_lists(self) -> Awaitable[list[CallList]]:
        return self._list("call_lists", CallList.from_api)

    def get_call_list(self, id: int) -> Awaitable[CallList]:
        path = self._path("call_list", id)
        return self._shared(path, self._read_one, path, CallList)

    def list_campaigns(self) -> Awaitable[list[Campaign]]:
        return self._list("campaigns", Campaign.from_api)

    async def poll_campaigns(
        self, etag: str | None = None
    ) -> tuple[list[Campaign] | None, str | None]:
        """The watcher's poll: ``(campaigns, etag)``, or ``(None, etag)`` when the dialer
        answered 304 Not Modified to ``If-None-Match`` (nothing changed, nothing parsed)."""
        path = self._path("campaigns")
        meta: dict[str, Any] = {}
        headers = {"If-None-Match": etag} if etag else None
        status, body = await self._exchange("GET", path, headers=headers, meta=meta)
        if status == 304:
            return None, meta.get("etag") or etag
        page = _page("campaigns", path, body)
        items = page.items if page.next_path is None else (await self.read_list("campaigns")).items
        return [_parse("GET", path, item, Campaign.from_api) for item in items], meta.get("etag")

    def get_campaign(self, id: int) -> Awaitable[Campaign]:
        """Concurrent reads of one campaign share one GET (see _shared); nothing is
        cached once it is answered, so a read after a command always asks the dialer."""
        path = self._path("campaign", id)
        return self._shared(path, self._read_one, path, Campaign)

    async def _read_one(self, path: str, model: Any) -> Any:
        return _parse("GET", path, unwrap_object(await self._request("GET", path)), model)

    async def read_list(self, name: str) -> Listing:
        """Every page of a list, unparsed: what the doctor reports on. Read-only."""
        path = self._path(name)
        status, body = await self._exchange("GET", path)
        page = first = _page(name, path, body)
        items, pages, capped = list(page.items), 1, False
        next_path = page.next_path
        while next_path is not None:
            if pages >= MAX_PAGES:
                log.warning("dialer GET %s: stopped after %d pages", path, pages)
                capped = True
                break
            next_path = self._relative(next_path)
            more = _page(name, next_path, await self._request("GET", next_path), page.paging)
            pages += 1
            if not more.items:
                break
            items.extend(more.items)
            next_path = more.next_path if more.next_path != next_path else None
            page = more
        return Listing(items, first.envelope, pages, status, first.extra_keys, capped)

    def _relative(self, path: str) -> str:
        """A ``next`` link that repeats the base URL's own path prefix loses it here."""
        prefix = httpx.URL(self.base_url).path.rstrip("/")
        if prefix and path.startswith(prefix + "/"):
            return path[len(prefix) :]
        return path

    async def read_object(self, name: str, id: int) -> tuple[int, Any]:
        """One object's status and body, unparsed (for the doctor). Read-only."""
        status, body = await self._exchange("GET", self._path(name, id))
        return status, unwrap_object(body)

    def _list(self, name: str, build: Callable[[Any], Any]) -> Awaitable[list[Any]]:
        """Listings asked for by many people at once share one read of all pages; each
        caller gets its own list (of the same frozen items)."""
        path = self._path(name)
        return self._shared(path, self._read_all, name, path, build, copy=list)

    async def _read_all(self, name: str, path: str, build: Callable[[Any], Any]) -> list[Any]:
        listing = await self.read_list(name)
        return [_parse("GET", path, item, build) for item in listing.items]

    # ---- writes (never retried) --------------------------------------------------------

    async def create_call_list(self, name: str, numbers: list[dict[str, Any]]) -> CreateResult:
        """Create a call list; ``numbers`` are ``{"number": "...", "attributes": []}`` dicts."""
        return await self._create_call_list({"name": name, "numbers": numbers}, name)

    async def create_call_list_json(
        self, body: bytes | JsonFile, name: str | None = None
    ) -> CreateResult:
        """Like create_call_list with the body already serialized: a million numbers as
        dicts cost ~300 MB in Python objects; as a JsonFile they are streamed from disk.
        Never retried either (except once after a 401, which the re-readable file allows).
        ``name`` finds the new list when the answer carries no id."""
        return await self._create_call_list(body, name)

    async def _create_call_list(self, body: Any, name: str | None) -> CreateResult:
        path = self._path("call_lists")
        with self._writing(path):
            status, answer = await self._exchange("POST", path, body)
        result = await self._created("POST", path, status, answer, "call_lists", name)
        if result.numbers_count is None and isinstance(body, dict):
            return CreateResult(result.id, result.message, len(body["numbers"]), result.raw)
        return result

    async def create_campaign(self, payload: dict[str, Any]) -> CreateResult:
        path = self._path("campaigns")
        with self._writing(path):
            status, answer = await self._exchange("POST", path, payload)
        return await self._created("POST", path, status, answer, "campaigns", payload.get("name"))

    async def update_campaign(self, id: int, payload: dict[str, Any]) -> CreateResult:
        path = self._path("campaign", id)
        with self._writing(path, self._path("campaigns")):
            _, answer = await self._exchange("PUT", path, payload)
        message, _, _ = answer_fields(answer)
        return CreateResult(int(id), message, raw=_raw(answer))

    async def control(self, id: int, command: str) -> ControlResult:
        """Send a control command once. Any 2xx is success, whatever its body; a state the
        answer does not carry is read from the campaign once (never the command again), by
        a GET of its own: no read begun before the answer is shared with it (_writing)."""
        if command not in COMMANDS:
            raise ValueError(f"unknown dialer command {command!r}; expected one of {COMMANDS}")
        path = self._path("control", id)
        with self._writing(self._path("campaign", id), self._path("campaigns")):
            status, answer = await self._exchange("PUT", path, {"command": command})
        log.info("dialer %s on campaign %s accepted (HTTP %d)", command, id, status)
        message, state, _ = answer_fields(answer)
        if state is not None or command == "remove":
            return ControlResult(int(id), message, state or "removed", raw=_raw(answer))
        try:
            state = (await self.get_campaign(id)).state
        except DialerError as exc:
            note = f"accepted (HTTP {status}); the new state is not known: {exc.message}"
            said = f"{message}; {note}" if message else note
            return ControlResult(int(id), said, None, note, raw=_raw(answer))
        return ControlResult(int(id), message, state, raw=_raw(answer))

    async def _created(
        self, method: str, path: str, status: int, answer: Any, name: str, wanted: Any
    ) -> CreateResult:
        """The new object's id from the answer, else the newest listed one of that name."""
        message, _, raw_id = answer_fields(answer)
        body = unwrap_object(answer)
        count = body.get("numbersCount") if isinstance(body, dict) else None
        count = count if isinstance(count, int) and not isinstance(count, bool) else None
        try:
            return CreateResult(int(raw_id), message, count, _raw(answer))
        except (TypeError, ValueError):
            pass
        found: list[int] = []
        if isinstance(wanted, str):
            try:
                found = [
                    int(item["id"])
                    for item in (await self.read_list(name)).items
                    if isinstance(item, dict) and item.get("name") == wanted and "id" in item
                ]
            except (DialerError, TypeError, ValueError) as exc:
                log.info("dialer %s %s: no id in the answer, and no list: %s", method, path, exc)
        if found:
            return CreateResult(max(found), message, count, _raw(answer))
        raise DialerError(
            f"the dialer accepted it (HTTP {status}) but its answer carried no id, and no "
            f"{name.replace('_', ' ')[:-1]} of that name was listed; look for it before "
            "creating it again",
            status=status,
            method=method,
            path=path,
            sent=True,
        )


def _page(name: str, path: str, body: Any, carried: dict[str, Any] | None = None) -> Page:
    try:
        return read_page(name, path, body, carried)
    except ShapeError as exc:
        raise DialerError(str(exc), status=200, method="GET", path=path, sent=True) from None


def _parse(method: str, path: str, data: Any, model: Any) -> Any:
    """``model.from_api(data)`` (or a builder function), with a clear error for a bad shape."""
    build = getattr(model, "from_api", model)
    try:
        if not isinstance(data, dict):
            raise TypeError(f"expected an object, found {type(data).__name__}")
        return build(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
        raise DialerError(
            f"the answer had an unexpected shape ({what})",
            status=200,
            method=method,
            path=path,
            sent=True,
        ) from None


def _raw(answer: Any) -> dict[str, Any]:
    return answer if isinstance(answer, dict) else {"body": answer}
