"""HTTP to the dialer: auth, retries, connection slots and timing, below the typed API.

One ``httpx.AsyncClient`` per client. Only GETs are retried: a create, update or control
command that timed out may have been carried out, and sending it again could start or
remove a campaign twice. The one exception is a 401, which means the dialer did not
execute the request, so it is retried once with a fresh token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from bot.dialer import bigjson
from bot.dialer.api import GATEWAY_STATUSES, PATHS, foreign_body
from bot.dialer.auth import TokenInfo, TokenSource
from bot.dialer.errors import error_fields, error_message, retry_after, transport_error
from bot.dialer.models import DialerError

log = logging.getLogger("bot.dialer")

# Requests wait for a connection slot here, and never outnumber the pool. A fifth of the
# pool is kept for writes (controls, creates, token requests), so that a `pause` never
# waits behind a burst of listings.
MAX_CONNECTIONS = 100

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Answers are read in full before they are parsed, up to this many bytes (DIALER_MAX_ANSWER_MB):
# a million-number call list is about 60 MB of JSON.
MAX_ANSWER_BYTES = 200 * 1024 * 1024
# A JSON answer bigger than this is parsed in slices (bigjson): parsing 50 MB takes
# seconds, and the event loop must keep acking Slack meanwhile. (A thread would not help:
# json.loads holds the GIL for the whole parse.)
PARSE_IN_SLICES_BYTES = 256 * 1024

Sleep = Callable[[float], Awaitable[None]]
# Told of every request: method, path, status (or "error"), seconds (bot.metrics).
OnResponse = Callable[[str, str, int | str, float], None]


@dataclass(frozen=True)
class JsonFile:
    """A JSON request body streamed from a file in 1 MB pieces: never held whole in memory,
    and re-readable (each iteration opens the file again) for the retry after a 401."""

    path: Path
    size: int

    async def __aiter__(self) -> AsyncIterator[bytes]:
        f = await asyncio.to_thread(self.path.open, "rb")
        try:
            while chunk := await asyncio.to_thread(f.read, 1 << 20):
                yield chunk
        finally:
            f.close()


class Transport:
    """Authenticated requests to the dialer; DialerClient adds the typed endpoints."""

    def __init__(
        self,
        base_url: str,
        auth_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        connect_timeout: float = 5.0,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_attempts: int = 3,
        retry_base: float = 0.2,
        retry_after_cap: float = 10.0,
        sleep: Sleep = asyncio.sleep,
        max_connections: int = MAX_CONNECTIONS,
        paths: dict[str, str] | None = None,
        on_response: OnResponse | None = None,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self._max_answer = max_answer_bytes
        self.paths = dict(PATHS) if paths is None else {**PATHS, **paths}
        self.base_url = base_url.rstrip("/")
        self.auth_url = auth_url
        self._timeout = timeout
        self._max_attempts = max(1, max_attempts)
        self._retry_base = retry_base
        self._retry_after_cap = retry_after_cap
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=max_connections),
            transport=transport,
        )
        writes = max(1, max_connections // 5)
        self._read_slots = asyncio.Semaphore(max(1, max_connections - writes))
        self._write_slots = asyncio.Semaphore(writes)
        self._shared_reads: dict[str, asyncio.Future[Any]] = {}
        # When the dialer last answered (below 500, credentials accepted; time.monotonic),
        # for /readyz; and who is told of every request, for /metrics.
        self.last_ok_at: float | None = None
        self._on_response = on_response
        self._auth = TokenSource(
            self._post_form,
            auth_url,
            username=username,
            password=password,
            token=token,
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, auth={self._auth.describe()})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def check_token(self) -> TokenInfo:
        """Get a token now and say how it was granted (doctor); never shows the token."""
        await self._authenticate()
        return self._auth.info

    async def check_refresh(self) -> bool:
        """Try the refresh grant once, if one was offered (doctor)."""
        return await self._auth.refresh_now()

    def _path(self, name: str, id: int | str | None = None) -> str:
        """Render a path template; ids must be integers so nothing can be smuggled in."""
        if id is None:
            return self.paths[name]
        if isinstance(id, bool) or not (str(id).isascii() and str(id).isdigit()):
            raise ValueError(f"a dialer id must be a non-negative integer, not {id!r}")
        return self.paths[name].format(id=int(id))

    # ---- transport ---------------------------------------------------------------------

    def _shared(
        self,
        path: str,
        fetch: Callable[..., Awaitable[Any]],
        *args: Any,
        copy: Callable[[Any], Any] | None = None,
    ) -> Awaitable[Any]:
        """Identical reads asked for by many people at once share one fetch in flight, so a
        channel all opening the same listing or campaign (after an announcement, say) costs
        the dialer one request, not one per person. Each caller gets an answer requested no
        earlier than one round trip before it asked. A failure reaches every waiter and is
        not kept: the next caller asks again. Writes unshare what they touch (_writing), so
        no read after a command joins an older GET.

        ``fetch(*args)`` reads and parses; ``copy`` gives each caller its own copy (a
        listing's list). Cancelling one caller never cancels the fetch of the others."""
        shared = self._shared_reads.get(path)
        if shared is None:
            shared = self._shared_reads[path] = asyncio.ensure_future(fetch(*args))
            shared.add_done_callback(lambda done: self._forget(path, done))
        return _join(shared, copy)

    def _forget(self, path: str, done: asyncio.Future[Any]) -> None:
        if self._shared_reads.get(path) is done:  # not a newer GET started after a write
            del self._shared_reads[path]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter re-raises it; none may be left to log

    @contextlib.contextmanager
    def _writing(self, *paths: str) -> Iterator[None]:
        """Around a write: reads of ``paths`` already in flight are answered as they are
        (they were asked before it), but no later read joins them, neither one that starts
        while the write is on its way nor one after its answer (or its failure: a write that
        timed out may have been carried out)."""
        self._unshare(paths)
        try:
            yield
        finally:
            self._unshare(paths)

    def _unshare(self, paths: tuple[str, ...]) -> None:
        for path in paths:
            self._shared_reads.pop(path, None)

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        """The answer's body (see _body) of a request that got a 2xx."""
        return (await self._exchange(method, path, body))[1]

    async def _exchange(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        """Send with auth; retry GETs on transient failures and anything once after a 401.

        ``headers`` with If-None-Match make a 304 an answer ``(304, None)``; ``meta``
        receives the answer's ETag (the watcher's conditional poll)."""
        retryable = method == "GET"
        attempt = 0
        renewed = False
        while True:
            attempt += 1
            try:
                token = await self._authenticate()
                response = await self._send(method, path, body, token, headers)
            except DialerError as err:
                if retryable and err.kind != "http" and attempt < self._max_attempts:
                    await self._backoff(method, path, attempt, str(err.kind), None)
                    continue
                raise
            status = response.status_code
            if status == 401:
                if self._auth.is_static:
                    raise DialerError(
                        "the static DIALER_TOKEN was rejected "
                        f"({error_message(response)}); set a valid DIALER_TOKEN",
                        status=401,
                        method=method,
                        path=path,
                        sent=True,
                    )
                if not renewed:
                    renewed = True
                    attempt -= 1  # the 401 retry is not a transient-failure retry
                    await self._authenticate(renew_after=token)
                    continue
            if retryable and status in RETRY_STATUSES and attempt < self._max_attempts:
                await self._backoff(method, path, attempt, str(status), response)
                continue
            if status >= 400:
                raise DialerError(
                    error_message(response),
                    status=status,
                    method=method,
                    path=path,
                    kind="http",
                    # a gateway that gave up may have passed the request on first
                    sent=None if status in GATEWAY_STATUSES else True,
                    fields=error_fields(response),
                )
            if meta is not None:
                meta["etag"] = response.headers.get("ETag")
            if status == 304 and headers and "If-None-Match" in headers:
                return status, None
            if status >= 300:
                raise DialerError(
                    f"a redirect ({status}) to {response.headers.get('Location', '?')}; "
                    "set DIALER_API_URL or DIALER_PATHS to the final address",
                    status=status,
                    method=method,
                    path=path,
                    sent=True,
                )
            return status, await _body(response, method, path)

    async def _authenticate(self, renew_after: str | None = None) -> str:
        """A token for the next API request. A failure here (it names the token request)
        means that API request was never sent: callers may say so, and need not fear a
        command half-done."""
        try:
            if renew_after is not None:
                await self._auth.renew_after_401(renew_after)
            return await self._auth.token()
        except DialerError as err:
            err.sent = False
            raise

    async def _send(
        self,
        method: str,
        path: str,
        body: Any,
        token: str,
        extra_headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = {**(extra_headers or {}), "Authorization": f"Bearer {token}"}
        if isinstance(body, bytes | JsonFile):  # pre-serialized JSON (create_call_list_json)
            headers["Content-Type"] = "application/json"
            if isinstance(body, JsonFile):  # a length, so httpx does not send it chunked
                headers["Content-Length"] = str(body.size)
            request = self._http.build_request(method, path, content=body, headers=headers)
        else:
            request = self._http.build_request(method, path, json=body, headers=headers)
        return await self._timed(method, path, request)

    async def _post_form(self, url: str, form: dict[str, str]) -> httpx.Response:
        """Used by TokenSource so token requests share this client, its timeouts and its errors."""
        path = httpx.URL(url).path or "/"
        request = self._http.build_request("POST", url, data=form)
        return await self._timed("POST", path, request, label="token")

    async def _read(self, request: httpx.Request, method: str, path: str) -> httpx.Response:
        """Send and read the whole answer, at most DIALER_MAX_ANSWER_MB of it: a body over
        the cap is refused as soon as it is seen to be, not after it has filled memory."""
        response = await self._http.send(request, stream=True)
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self._max_answer:
                raise self._too_big(response, method, path, int(declared))
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self._max_answer:
                    raise self._too_big(response, method, path, None)
                chunks.append(chunk)
        finally:
            await response.aclose()
        # The body is decoded already: the copy must not decode it again.
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=b"".join(chunks),
            request=request,
            extensions=response.extensions,
        )

    def _too_big(
        self, response: httpx.Response, method: str, path: str, size: int | None
    ) -> DialerError:
        cap = self._max_answer / (1024 * 1024)
        said = f"{size / (1024 * 1024):.0f} MB, " if size is not None else ""
        return DialerError(
            f"the dialer's answer is {said}over the {cap:g} MB cap (DIALER_MAX_ANSWER_MB)",
            status=response.status_code,
            method=method,
            path=path,
            kind="http",
            sent=True,
        )

    async def _timed(
        self,
        method: str,
        path: str,
        request: httpx.Request,
        label: str = "",
    ) -> httpx.Response:
        """DIALER_TIMEOUT bounds the whole request: connect, send and the entire answer,
        however slowly it trickles in (httpx's own timeouts bound each read only)."""
        started = time.perf_counter()
        slots = self._read_slots if method == "GET" else self._write_slots
        try:
            async with asyncio.timeout(self._timeout):
                await slots.acquire()
        except TimeoutError:
            msg = "too many requests in flight; no connection to the dialer became free in time"
            raise DialerError(msg, method=method, path=path, kind="timeout", sent=False) from None
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._read(request, method, path)
        except TimeoutError:
            ms = (time.perf_counter() - started) * 1000
            log.info("dialer %s %s: no whole answer after %.0f ms", method, path, ms)
            if self._on_response is not None:
                self._on_response(method, path, "error", ms / 1000)
            msg = (
                f"no whole answer within {self._timeout:g} s; "
                "the dialer may or may not have carried out the request"
            )
            raise DialerError(msg, method=method, path=path, kind="timeout", sent=None) from None
        except httpx.TransportError as exc:
            ms = (time.perf_counter() - started) * 1000
            log.info("dialer %s %s failed after %.0f ms: %s", method, path, ms, type(exc).__name__)
            if self._on_response is not None:
                self._on_response(method, path, "error", ms / 1000)
            raise transport_error(exc, method, path, self.base_url, self._timeout) from None
        finally:
            slots.release()
        ms = (time.perf_counter() - started) * 1000
        if response.status_code < 500 and response.status_code not in (401, 403):
            self.last_ok_at = time.monotonic()
        if self._on_response is not None:
            self._on_response(method, path, response.status_code, ms / 1000)
        log.debug(
            "dialer %s %s%s -> %d in %.0f ms",
            method,
            path,
            f" ({label})" if label else "",
            response.status_code,
            ms,
        )
        return response

    async def _backoff(
        self,
        method: str,
        path: str,
        attempt: int,
        why: str,
        response: httpx.Response | None,
    ) -> None:
        delay = self._retry_base * 2 ** (attempt - 1)
        wait = retry_after(response) if response is not None else None
        if wait is not None:
            delay = min(wait, self._retry_after_cap)
        log.warning(
            "dialer %s %s: %s, retrying in %.2f s (attempt %d of %d)",
            method,
            path,
            why,
            delay,
            attempt + 1,
            self._max_attempts,
        )
        await self._sleep(delay)


async def _join(shared: asyncio.Future[Any], copy: Callable[[Any], Any] | None) -> Any:
    result = await asyncio.shield(shared)  # a caller's cancel stays its own
    return copy(result) if copy is not None else result


async def _body(response: httpx.Response, method: str, path: str) -> Any:
    """A 2xx body as JSON; None when empty (204); the text itself when it is a short plain
    text (a plain "OK"). Whether that shape is usable is for the caller to decide. A body
    that is not the dialer's (bot/dialer/api.py foreign_body) is an error whose ``sent``
    is None: whatever answered, the request may or may not have reached the dialer."""
    content = response.content
    if not content.strip():
        return None
    text = response.text if len(content) <= PARSE_IN_SLICES_BYTES else ""
    why = foreign_body(
        response.headers.get("Content-Type", ""), text or content[:4096].decode("utf-8", "replace")
    )
    if why is not None:
        raise DialerError(
            f"{why} came back with HTTP {response.status_code} instead of the dialer's answer; "
            "the request may not have reached the dialer",
            status=response.status_code,
            method=method,
            path=path,
            kind="foreign",
            sent=None,
        )
    try:
        if len(content) > PARSE_IN_SLICES_BYTES:
            return await bigjson.loads(content)
        return response.json()
    except ValueError:
        return response.text
