"""The `chatd` command: serve | migrate."""

import argparse
import asyncio
import logging
import sys

from aiohttp import web

from chatd.app import create_app
from chatd.config import ConfigError, Settings
from chatd.infrastructure.db import migrate
from chatd.infrastructure.embedded import embedded_services

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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env().with_overrides(
            host=getattr(args, "host", None), port=getattr(args, "port", None)
        )
        if args.command == "migrate":
            with embedded_services(settings, with_redis=False) as settings:
                applied = asyncio.run(migrate(settings.database_url, settings.sql_dir))
            log.info("migrations applied: %s", ", ".join(applied) or "none pending")
            return 0
        settings.check_can_serve()
        with embedded_services(settings) as settings:
            if not args.no_migrate:
                asyncio.run(migrate(settings.database_url, settings.sql_dir))
            serve(settings)
            return 0
    except ConfigError as error:
        print(f"chatd: {error}", file=sys.stderr)
        return 2


def serve(settings: Settings) -> None:
    log.info("serving on http://%s:%s", settings.host, settings.port)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=10,
    )
