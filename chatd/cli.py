"""The `chatd` command: serve | migrate | cluster | bench."""

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from chatd.cluster import run_cluster
from chatd.config import ConfigError, Settings
from chatd.infrastructure.db import migrate
from chatd.infrastructure.embedded import embedded_services
from chatd.logs import configure_logging
from chatd.server import serve

log = logging.getLogger("chatd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatd", description="a real-time chat server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run one server process")
    serve.add_argument("--host", help="address to bind (CHATD_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (CHATD_PORT, default 8080)")
    serve.add_argument(
        "--no-migrate", action="store_true", help="do not apply pending migrations on start"
    )
    commands.add_parser("migrate", help="apply pending sql/ migrations and exit")
    cluster = commands.add_parser(
        "cluster", help="run several serve processes on one PostgreSQL and Redis, behind nginx"
    )
    cluster.add_argument("--workers", type=int, default=3, help="how many processes (default 3)")
    cluster.add_argument("--port", type=int, help="nginx's port (CHATD_PORT, default 8080)")
    commands.add_parser(
        "bench", add_help=False, help="the benchmark (the bench extra); chatd bench --help"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        from chatd.bench import main as bench  # the bench extra: imported only for this

        return bench(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env().with_overrides(
            host=getattr(args, "host", None), port=getattr(args, "port", None)
        )
        configure_logging(settings.log_format)
        if args.command == "migrate":
            with embedded_services(settings, with_redis=False) as settings:
                applied = asyncio.run(migrate(settings.database_url, settings.sql_dir))
            log.info("migrations applied: %s", ", ".join(applied) or "none pending")
            return 0
        settings.check_can_serve()
        if args.command == "cluster":
            return run_cluster(settings, workers=args.workers)
        run = event_loop_runner(settings)
        with embedded_services(settings) as settings:
            if not args.no_migrate:
                asyncio.run(migrate(settings.database_url, settings.sql_dir))
            run(serve(settings))
        return 0
    except ConfigError as error:
        print(f"chatd: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before the server was up, or a second one after
        return 130


def event_loop_runner(settings: Settings) -> Callable[[Coroutine[Any, Any, None]], None]:
    """asyncio.run, or uvloop's when CHATD_UVLOOP asks for it (the `fast` extra)."""
    if not settings.uvloop:
        return asyncio.run
    try:
        import uvloop
    except ImportError:
        raise ConfigError("CHATD_UVLOOP=1 needs uvloop: pip install -e '.[fast]'") from None
    return uvloop.run
