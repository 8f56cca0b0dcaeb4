"""The bot's long-lived parts, built once and handed to listeners through Bolt's context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.access import Access
from bot.approvals import ApprovalService
from bot.config import Settings
from bot.control import Controller
from bot.dialer import DialerClient
from bot.notify import Notifier
from bot.schedule import Scheduler
from bot.tasks import BackgroundTasks
from bot.watch import Watcher
from store import Store


@dataclass
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
    # The start's one auth.test answer (bot.lifecycle.check_slack_auth); primes Bolt.
    slack_auth: Any = None
    anchor: Any = None  # bot.anchor.AnchorPoster, started by bot.lifecycle.startup
    loop_lag: Any = None  # bot.looplag.LoopLag, likewise
    bolt_apps: list[Any] = field(default_factory=list)  # to prime once auth.test succeeds
    # handlers/home's HomePublisher, set by handlers.register (bot/ never imports handlers).
    home: Any = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        dialer: DialerClient | None = None,
        store: Store | None = None,
        client: AsyncWebClient | None = None,
    ) -> Services:
        """Wire everything from settings; tests pass their own pieces where they need to."""
        from bot import metrics
        from bot.logs import current_request_id
        from bot.slack_client import make_client

        if dialer is None:
            settings.check_dialer_auth()
            dialer = DialerClient(
                settings.dialer_api_url,
                settings.dialer_auth_url,
                username=settings.dialer_username,
                password=_secret(settings.dialer_password),
                token=_secret(settings.dialer_token),
                connect_timeout=settings.dialer_connect_timeout,
                timeout=settings.dialer_timeout,
                paths=settings.paths,
                on_response=metrics.observe_dialer,
            )
        store = store or Store(settings.database_path)
        client = client or make_client(settings)
        tasks = BackgroundTasks()
        store.audit.request_id_source = current_request_id
        controller = Controller(dialer, store)
        access = Access(store, settings.admin_ids)
        notifier = Notifier(client, store, settings.notify_channel)
        return cls(
            settings=settings,
            dialer=dialer,
            store=store,
            client=client,
            notifier=notifier,
            tasks=tasks,
            access=access,
            controller=controller,
            approvals=ApprovalService(store, controller, settings.approval_ttl),
            scheduler=Scheduler(store, dialer, controller, access, settings.schedule_grace),
            watcher=Watcher(dialer, store, notifier, settings.dialer_watch_interval),
        )

    async def aclose(self) -> None:
        await self.watcher.aclose()
        await self.tasks.close()
        await self.scheduler.aclose()
        await self.approvals.aclose()
        await self.notifier.close()
        await self.dialer.aclose()
        from bot.slack_client import close_connections

        await close_connections(self.client)  # last: the steps above may still post
        self.store.close()


def _secret(value: object) -> str | None:
    return value.get_secret_value() if value is not None else None  # type: ignore[attr-defined]
