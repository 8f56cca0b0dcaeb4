"""The Slack Web API client: base URL from settings, rate limits retried by slack_sdk."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings


def make_client(settings: Settings, *, max_rate_limit_retries: int = 3) -> AsyncWebClient:
    """slack_sdk reads no env var for the API URL, so the base URL is passed explicitly."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=10)
    # The default handlers retry connection errors; 429s need the rate-limit handler too.
    client.retry_handlers.append(
        AsyncRateLimitErrorRetryHandler(max_retry_count=max_rate_limit_retries)
    )
    return client
