"""Settings: the only place that reads the environment."""

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# sql/, templates/, static/, deploy/: beside the package in a checkout (an editable install);
# in the working directory when the package is installed (the Docker image's /app).
CHECKOUT = (PROJECT_ROOT / "sql").is_dir()
RESOURCES = PROJECT_ROOT if CHECKOUT else Path.cwd()
MIN_SECRET_LENGTH = 32  # HS256 wants a key of at least 256 bits
LOG_FORMATS = ("text", "json")

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


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
    room_rate: int = 10  # rooms one user may create per hour (0: no limit)
    join_rate: int = 30  # rooms one user may join per minute (0: no limit)
    edit_window: int = 3600  # seconds after posting its author may edit a message (0: always)
    moderators_delete: bool = True  # a room's owner and moderators may delete any message in it
    bcrypt_rounds: int = 12
    ws_compression: bool = False
    uvloop: bool = False  # serve on uvloop (the `fast` extra)
    ws_auth_timeout: float = 10.0  # seconds a new socket has to send its auth frame
    ws_heartbeat: float = 30.0  # seconds between pings; no pong within half of it closes
    redis_health_interval: float = 5.0  # seconds between the bus's PINGs; no PONG: reconnect
    trusted_proxies: tuple[IpNetwork, ...] = ()  # whose X-Forwarded-For is believed
    log_format: str = "text"
    shutdown_timeout: float = 10.0  # seconds from SIGTERM to exit, at most
    data_dir: Path = RESOURCES / ".chatd"
    sql_dir: Path = RESOURCES / "sql"
    templates_dir: Path = RESOURCES / "templates"
    static_dir: Path = RESOURCES / "static"
    deploy_dir: Path = RESOURCES / "deploy"

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
            room_rate=_int(env, "CHATD_ROOM_RATE", default.room_rate, low=0),
            join_rate=_int(env, "CHATD_JOIN_RATE", default.join_rate, low=0),
            edit_window=_int(env, "CHATD_EDIT_WINDOW", default.edit_window, low=0),
            moderators_delete=_flag(env, "CHATD_MODERATORS_DELETE", default=True),
            bcrypt_rounds=_int(env, "CHATD_BCRYPT_ROUNDS", default.bcrypt_rounds, low=4, high=31),
            ws_compression=env.get("CHATD_WS_COMPRESSION", "0").lower() in {"1", "true", "yes"},
            uvloop=env.get("CHATD_UVLOOP", "0").lower() in {"1", "true", "yes"},
            data_dir=Path(env.get("CHATD_DATA_DIR", str(default.data_dir))),
            trusted_proxies=_networks(env.get("CHATD_TRUSTED_PROXIES", "")),
            log_format=_choice(env, "CHATD_LOG_FORMAT", LOG_FORMATS),
            ws_heartbeat=_int(env, "CHATD_WS_HEARTBEAT", int(default.ws_heartbeat), low=1),
            redis_health_interval=_int(
                env, "CHATD_REDIS_HEALTH_INTERVAL", int(default.redis_health_interval), low=1
            ),
            shutdown_timeout=_int(
                env, "CHATD_SHUTDOWN_TIMEOUT", int(default.shutdown_timeout), low=1, high=3600
            ),
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


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in {"0", "1", "true", "false", "yes", "no"}:
        raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")
    return raw in {"1", "true", "yes"}


def _origins(raw: str) -> tuple[str, ...]:
    return tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())


def _networks(raw: str) -> tuple[IpNetwork, ...]:
    """Addresses or networks (`10.0.0.7`, `10.0.0.0/8`, `::1`), comma separated."""
    try:
        return tuple(ipaddress.ip_network(item.strip()) for item in raw.split(",") if item.strip())
    except ValueError as error:
        raise ConfigError(f"CHATD_TRUSTED_PROXIES: {error}") from None


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or choices[0]
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value
