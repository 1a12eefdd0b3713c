"""REST routes of accounts: register, login, refresh, logout, me."""

from aiohttp import web

from chatd.interfaces.http import (
    client_address,
    current_user,
    json_object,
    json_response,
    string_field,
)
from chatd.interfaces.keys import ACCOUNTS


async def register(request: web.Request) -> web.Response:
    body = await json_object(request)
    user = await request.app[ACCOUNTS].register(
        username=string_field(body, "username"), password=string_field(body, "password")
    )
    return json_response(user, status=201)


async def login(request: web.Request) -> web.Response:
    body = await json_object(request)
    pair = await request.app[ACCOUNTS].login(
        username=string_field(body, "username"),
        password=string_field(body, "password"),
        client_address=client_address(request),
    )
    return json_response(pair)


async def refresh(request: web.Request) -> web.Response:
    body = await json_object(request)
    pair = await request.app[ACCOUNTS].refresh(refresh_token=string_field(body, "refresh_token"))
    return json_response(pair)


async def logout(request: web.Request) -> web.Response:
    body = await json_object(request)
    await request.app[ACCOUNTS].logout(refresh_token=string_field(body, "refresh_token"))
    return web.Response(status=204)


async def me(request: web.Request) -> web.Response:
    return json_response(await current_user(request))


def add_auth_routes(app: web.Application) -> None:
    app.router.add_post("/api/auth/register", register)
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/refresh", refresh)
    app.router.add_post("/api/auth/logout", logout)
    app.router.add_get("/api/me", me)
