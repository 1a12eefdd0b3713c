"""The bundled chat page and the health probes."""

from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from chatd.interfaces.keys import READINESS


@aiohttp_jinja2.template("index.html")
async def index(request: web.Request) -> dict:
    return {}


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    checks = await request.app[READINESS].check()
    ready = all(checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return web.json_response(body, status=200 if ready else 503)


def add_page_routes(app: web.Application, static_dir: Path) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_static("/static/", static_dir)
