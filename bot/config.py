"""Settings: every environment variable the bot reads, validated once at start-up."""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    @field_validator("notify_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if value[:1] not in ("C", "G", "D") or not value.isalnum():
            raise ValueError("expected a Slack channel ID such as C0123ABCD, not a name")
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

    @property
    def admin_ids(self) -> frozenset[str]:
        return frozenset(_split_csv(self.dialer_admins))

    @property
    def approval_commands(self) -> frozenset[str]:
        return frozenset(_split_csv(self.approval_required))

    def require(self, *names: str) -> None:
        """Fail with one clear line when a setting a mode needs is missing."""
        for name in names:
            if getattr(self, name) in (None, ""):
                raise ConfigError(f"{name.upper()} is required for this command but is not set")

    def check_dialer_auth(self) -> None:
        if self.dialer_token is None and not (self.dialer_username and self.dialer_password):
            raise ConfigError(
                "set DIALER_TOKEN, or both DIALER_USERNAME and DIALER_PASSWORD, "
                "so that the bot can authenticate to the dialer API"
            )


def _split_csv(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


def _require_http_url(value: str) -> None:
    if not value.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "setting"
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{name}: {msg}")
        raise ConfigError("; ".join(lines)) from None
