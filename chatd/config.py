"""Settings: the only place that reads the environment."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_LENGTH = 32  # HS256 wants a key of at least 256 bits


class ConfigError(Exception):
    """A setting is missing or malformed; the process must not start."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = None  # None: the embedded PostgreSQL
    redis_url: str | None = None  # None: the embedded Redis
    jwt_secret: str | None = None  # None: only allowed in embedded mode
    host: str = "127.0.0.1"
    port: int = 8080
    allowed_origins: tuple[str, ...] = ()
    access_ttl: int = 900
    refresh_ttl: int = 2_592_000
    message_rate: int = 50
    login_rate: int = 20
    bcrypt_rounds: int = 12
    ws_compression: bool = False
    ws_auth_timeout: float = 10.0  # seconds a new socket has to send its auth frame
    data_dir: Path = PROJECT_ROOT / ".chatd"
    sql_dir: Path = PROJECT_ROOT / "sql"
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "static"

    @property
    def embedded(self) -> bool:
        """Embedded mode: chatd keeps its own PostgreSQL, so it may keep its own secret too."""
        return self.database_url is None

    def with_overrides(self, **changes: object) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        default = cls()
        settings = cls(
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            jwt_secret=env.get("CHATD_JWT_SECRET") or None,
            host=env.get("CHATD_HOST", default.host),
            port=_int(env, "CHATD_PORT", default.port, low=0, high=65535),
            allowed_origins=_origins(env.get("CHATD_ALLOWED_ORIGINS", "")),
            access_ttl=_int(env, "CHATD_ACCESS_TTL", default.access_ttl, low=1),
            refresh_ttl=_int(env, "CHATD_REFRESH_TTL", default.refresh_ttl, low=1),
            message_rate=_int(env, "CHATD_MESSAGE_RATE", default.message_rate, low=0),
            login_rate=_int(env, "CHATD_LOGIN_RATE", default.login_rate, low=0),
            bcrypt_rounds=_int(env, "CHATD_BCRYPT_ROUNDS", default.bcrypt_rounds, low=4, high=31),
            ws_compression=env.get("CHATD_WS_COMPRESSION", "0").lower() in {"1", "true", "yes"},
            data_dir=Path(env.get("CHATD_DATA_DIR", str(default.data_dir))),
        )
        if settings.jwt_secret is not None and len(settings.jwt_secret) < MIN_SECRET_LENGTH:
            raise ConfigError(f"CHATD_JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        return settings

    def check_can_serve(self) -> None:
        if not self.embedded and not self.jwt_secret:
            raise ConfigError("CHATD_JWT_SECRET is required when DATABASE_URL is set")


def _int(
    env: Mapping[str, str], name: str, default: int, *, low: int, high: int | None = None
) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        raise ConfigError(f"{name} must be between {low} and {high or 'infinity'}, got {value}")
    return value


def _origins(raw: str) -> tuple[str, ...]:
    return tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
