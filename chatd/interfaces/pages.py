"""The bundled chat page and the health probes."""

from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from chatd.interfaces.keys import READINESS

# The page runs only its own scripts and styles: no inline script, no eval, no other origin.
# `connect-src 'self'` covers the WebSocket of the same host (ws: or wss:).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


async def index(request: web.Request) -> web.Response:
    response = aiohttp_jinja2.render_template("index.html", request, {})
    response.headers.update(PAGE_HEADERS)
    return response


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
