"""The bundled chat page and the health probes."""

import asyncio

import aiohttp_jinja2
from aiohttp import web

from chatd.interfaces.keys import POOL, REDIS

PROBE_TIMEOUT = 2.0


@aiohttp_jinja2.template("index.html")
async def index(request: web.Request) -> dict:
    return {}


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    checks = {
        "postgres": _probe(request.app[POOL].fetchval("SELECT 1")),
        "redis": _probe(request.app[REDIS].ping()),
    }
    results = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    ready = all(results.values())
    body = {"status": "ready" if ready else "unavailable", "checks": results}
    return web.json_response(body, status=200 if ready else 503)


async def _probe(check) -> bool:
    try:
        await asyncio.wait_for(check, PROBE_TIMEOUT)
    except Exception:
        return False
    return True


def add_page_routes(app: web.Application, static_dir) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_static("/static/", static_dir)
