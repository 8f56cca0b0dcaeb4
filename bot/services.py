"""The bot's long-lived parts, built once by the composition root (bot.app.build_services)
and handed to listeners through Bolt's context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from slack_sdk.web.async_client import AsyncWebClient

from bot.access import Access
from bot.anchor import AnchorPoster
from bot.approvals import ApprovalService
from bot.config import Settings
from bot.control import Controller
from bot.dialer import DialerClient
from bot.metrics import LoopLag
from bot.notify import Notifier
from bot.schedules import Scheduler
from bot.slack_auth import SlackAuth
from bot.tasks import BackgroundTasks
from bot.watch import Watcher, WatchEvent
from store import Store


class HomePages(Protocol):
    """The App Home publisher (handlers/home/publisher.py): bot/ renders no Block Kit."""

    async def opened(self, user_id: str, event_id: str | None) -> None: ...

    async def on_events(self, events: list[WatchEvent]) -> None: ...


@dataclass(frozen=True)
class Services:
    settings: Settings
    dialer: DialerClient
    store: Store
    client: AsyncWebClient
    notifier: Notifier
    tasks: BackgroundTasks
    access: Access
    controller: Controller
    approvals: ApprovalService
    scheduler: Scheduler
    watcher: Watcher
    slack_auth: SlackAuth
    anchor: AnchorPoster
    loop_lag: LoopLag
    home: HomePages

    async def aclose(self) -> None:
        await self.watcher.aclose()
        await self.tasks.close()
        await self.scheduler.aclose()
        await self.approvals.aclose()
        await self.loop_lag.aclose()
        await self.notifier.close()
        await self.dialer.aclose()
        from bot.slack_client import close_connections

        await close_connections(self.client)  # last: the steps above may still post
        self.store.close()
