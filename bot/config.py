"""Settings: every environment variable the bot reads, validated once at start-up."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from bot.calling_hours import Permitted

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DIALER_API_URL = "https://ipbxapi.voipex.io"
DEFAULT_DIALER_AUTH_URL = "https://auth.voipex.io/token"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and says what it expects."""


class Settings(BaseSettings):
    """Every setting the bot reads; names are the environment variables in upper case."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL

    dialer_api_url: str = DEFAULT_DIALER_API_URL
    dialer_auth_url: str = DEFAULT_DIALER_AUTH_URL
    dialer_username: str | None = None
    dialer_password: SecretStr | None = None
    dialer_token: SecretStr | None = None
    dialer_connect_timeout: float = Field(5.0, gt=0)
    dialer_timeout: float = Field(30.0, gt=0)
    # Largest dialer answer read, in MB: a million-number call list is about 60 MB.
    dialer_max_answer_mb: float = Field(200.0, gt=0, le=2048)
    # Seconds an unknown outcome (a gateway 5xx, a lost answer) is settled by re-reading.
    dialer_resolve_seconds: float = Field(30.0, ge=0, le=600)
    # JSON object overriding bot/dialer/api.py PATHS, e.g. {"campaigns": "/v2/campaigns"}.
    dialer_paths: str = ""

    database_path: str = "dialer-bot.db"
    host: str = "0.0.0.0"  # noqa: S104 - a web dyno must listen on every interface
    port: int = Field(3000, ge=1, le=65535)
    notify_channel: str | None = None
    dialer_admins: str = ""
    default_region: str | None = None
    # Call-list uploads (CSV): larger files are refused before and while downloading.
    max_upload_mb: int = Field(50, ge=1, le=200)
    approval_required: str = "remove"
    approval_ttl: int = Field(1800, gt=0)
    # Scheduled commands: the zone a time is read in when the user's Slack zone is unknown,
    # and how late (seconds) a schedule missed while the bot was down may still run.
    bot_timezone: str = "UTC"
    schedule_grace: int = Field(600, ge=0)
    approval_channel: str | None = None  # where approvers watch; default NOTIFY_CHANNEL
    approver_group: str | None = None  # Slack usergroup ID (S…) mentioned in each request
    # Seconds between polls of the campaign list (bot/watch.py); 0 turns the watcher off.
    dialer_watch_interval: float = Field(30.0, ge=0)
    # Pauses in flight at once during pause-all. The dialer client lets a fifth of its
    # connections (20) write at once, so a higher value would only wait for them.
    pause_all_concurrency: int = Field(16, ge=1, le=20)

    # Calling hours at the called person's local time (bot/calling_hours.py): the permitted
    # window, e.g. 08:00-20:00 (unset: no check), its week days (1 = Monday … 7 = Sunday,
    # e.g. 1-5; unset: every day), and whether a start outside it is refused.
    calling_hours: str | None = None
    calling_days: str | None = None
    calling_hours_enforce: bool = False

    log_level: str = "INFO"
    log_format: str = "text"
    # The audit chain's head is posted to Slack this often and at shutdown (audit anchors).
    audit_anchor_hours: float = Field(24.0, gt=0)
    audit_anchor_channel: str | None = None

    @field_validator("slack_bot_token", "slack_app_token", mode="before")
    @classmethod
    def _token_prefix(cls, value: object, info: ValidationInfo) -> object:
        """A bot token in the app-token slot (or the reverse) only fails later, obscurely."""
        if value in (None, ""):
            return None
        text = str(value.get_secret_value() if isinstance(value, SecretStr) else value).strip()
        prefix = TOKEN_PREFIXES[info.field_name or ""]
        _refuse_placeholder(text)
        if not text.startswith(prefix):
            shown = text[:5] if text[:5] in ("xoxb-", "xapp-", "xoxp-") else "something else"
            raise ValueError(f"expected a token starting with {prefix}, got {shown}")
        return text

    @field_validator("slack_signing_secret", "dialer_password", "dialer_token", mode="before")
    @classmethod
    def _no_placeholder(cls, value: object) -> object:
        if value in (None, ""):
            return None
        text = str(value.get_secret_value() if isinstance(value, SecretStr) else value)
        _refuse_placeholder(text.strip())
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        fmt = value.strip().lower()
        if fmt not in ("text", "json"):
            raise ValueError("expected text or json")
        return fmt

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        _require_http_url(value)
        return value if value.endswith("/") else value + "/"

    @field_validator("dialer_api_url", "dialer_auth_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        _require_http_url(value)
        return value.rstrip("/")

    @field_validator("dialer_paths")
    @classmethod
    def _paths(cls, value: str) -> str:
        from bot.dialer.api import validate_paths

        validate_paths(value)  # raises ValueError naming the bad entry
        return value

    @property
    def paths(self) -> dict[str, str]:
        """Every API path: bot/dialer/api.py PATHS with DIALER_PATHS applied."""
        from bot.dialer.api import validate_paths

        return validate_paths(self.dialer_paths)

    @field_validator("notify_channel", "audit_anchor_channel", "approval_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if value[:1] not in ("C", "G", "D") or not value.isalnum():
            raise ValueError("expected a Slack channel ID such as C0123ABCD, not a name")
        return value

    @field_validator("approver_group")
    @classmethod
    def _usergroup_id(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if value[:1] != "S" or not value.isalnum():
            raise ValueError("expected a Slack user group ID such as S0123ABCD, not a handle")
        return value

    @field_validator("dialer_admins")
    @classmethod
    def _user_ids(cls, value: str) -> str:
        for part in _split_csv(value):
            if not (part[:1] in ("U", "W") and part.isalnum()):
                raise ValueError(
                    f"{part!r} is not a Slack user ID; "
                    "expected IDs such as U0123ABCD, comma-separated"
                )
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        import phonenumbers

        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("expected a two-letter ISO country code such as CZ or GB")
        return region

    @field_validator("approval_required")
    @classmethod
    def _approval_commands(cls, value: str) -> str:
        allowed = {"start", "pause", "unpause", "reload", "remove"}
        unknown = [c for c in _split_csv(value) if c not in allowed]
        if unknown:
            raise ValueError(f"unknown command(s) {unknown}; expected some of {sorted(allowed)}")
        return value

    @field_validator("bot_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as Europe/Prague or UTC") from None
        return value

    @field_validator("calling_hours")
    @classmethod
    def _calling_hours(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        from bot.calling_hours import Permitted

        Permitted.parse(value)  # raises ValueError saying what is wrong
        return value.strip()

    @field_validator("calling_days")
    @classmethod
    def _calling_days(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        from bot.calling_hours import parse_days

        parse_days(value)
        return value.strip()

    @property
    def permitted_hours(self) -> Permitted | None:
        """The calling-hours window, or None when CALLING_HOURS is unset (no check)."""
        from bot.calling_hours import Permitted

        if self.calling_hours is None:
            return None
        return Permitted.parse(self.calling_hours, self.calling_days)

    @property
    def admin_ids(self) -> frozenset[str]:
        return frozenset(_split_csv(self.dialer_admins))

    @property
    def approval_commands(self) -> frozenset[str]:
        return frozenset(_split_csv(self.approval_required))

    @property
    def anchor_channel(self) -> str | None:
        return self.audit_anchor_channel or self.notify_channel

    def missing(self, mode: str, reported: Collection[str] = ()) -> list[str]:
        """Every problem with what `mode` (serve, socket) needs, so one start reports all;
        `reported`: fields already named as malformed."""
        problems = []
        absent = [
            n.upper()
            for n in REQUIRED[mode]
            if getattr(self, n) in (None, "") and n not in reported
        ]
        if absent:
            verb = "is" if len(absent) == 1 else "are"
            problems.append(f"{', '.join(absent)} {verb} required for this command but not set")
        dialer = {"dialer_token", "dialer_username", "dialer_password"}
        no_auth = self.dialer_token is None and not (self.dialer_username and self.dialer_password)
        if no_auth and not dialer & set(reported):
            problems.append(DIALER_AUTH_MISSING)
        return problems

    @property
    def approvals_to(self) -> str | None:
        """The channel that gets every approval request besides its channel of origin."""
        return self.approval_channel or self.notify_channel

    def require(self, *names: str) -> None:
        """Fail with one clear line when a setting a mode needs is missing."""
        absent = [n.upper() for n in names if getattr(self, n) in (None, "")]
        if absent:
            raise ConfigError(f"{', '.join(absent)}: required for this command but not set")

    def check_dialer_auth(self) -> None:
        if self.dialer_token is None and not (self.dialer_username and self.dialer_password):
            raise ConfigError(DIALER_AUTH_MISSING)


DIALER_AUTH_MISSING = (
    "set DIALER_TOKEN, or both DIALER_USERNAME and DIALER_PASSWORD, "
    "so that the bot can authenticate to the dialer API"
)
# What each long-running mode needs beyond the dialer credentials; app token first for
# socket: it is what Socket Mode needs beyond a serve setup.
REQUIRED = {
    "serve": ("slack_bot_token", "slack_signing_secret"),
    "socket": ("slack_app_token", "slack_bot_token"),
}
TOKEN_PREFIXES = {"slack_bot_token": "xoxb-", "slack_app_token": "xapp-"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _refuse_placeholder(text: str) -> None:
    """`...` and `xoxb-...` are .env.example's placeholders, not values."""
    if text.endswith("...") or text in ("changeme", "<token>"):
        raise ValueError("still the placeholder from .env.example; put the real value here")


def _split_csv(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


def _require_http_url(value: str) -> None:
    if not value.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")


def load_settings(mode: str | None = None, **overrides: object) -> Settings:
    """Build Settings; every bad variable, and with `mode` every missing one, is reported
    at once in one ConfigError line, so a deploy is not fixed one restart per variable."""
    lines: list[str] = []
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        bad: dict[str, object] = {}
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "setting"
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{field.upper()}: {msg}")
            if field in Settings.model_fields:
                bad[field] = Settings.model_fields[field].default
        # Read again with the bad ones at their defaults, only to find what is missing too.
        try:
            settings = Settings(**{**overrides, **bad})  # type: ignore[arg-type]
        except ValidationError:
            raise ConfigError("; ".join(lines)) from None
        if mode is not None:
            lines += settings.missing(mode, reported=bad)
        raise ConfigError("; ".join(lines)) from None
    if mode is not None and (problems := settings.missing(mode)):
        raise ConfigError("; ".join(problems))
    return settings
