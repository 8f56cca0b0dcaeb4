"""Bolt middleware: every listener finds the services and the acting user in its context."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.logs import current_request_id, new_request_id, set_request_id
from bot.services import Services
from handlers.payload import problem
from handlers.request import actor_from

log = logging.getLogger(__name__)


class RequestContext(AsyncMiddleware):
    """The one middleware: a request id, malformed payloads refused, services and actor in
    the context. A class: Bolt hands it the request as it is, where a function middleware
    gets some 30 keyword arguments built for every request."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        # Socket Mode requests arrive without the web route (bot/app.py): give them an id too.
        if current_request_id() is None:
            set_request_id(new_request_id())
        body = req.body
        why = problem(body)
        if why is not None:  # over HTTP, /slack/events refused it already (bot/app.py)
            log.warning("refused a %s payload: %s", req.mode, why)
            return BoltResponse(status=400, body="")
        context = req.context
        context["services"] = self._services
        context["actor"] = actor_from(context, body)
        return await next()
