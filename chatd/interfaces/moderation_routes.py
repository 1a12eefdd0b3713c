"""REST routes of direct messages, roles, kicks, bans and invitations."""

from typing import Any

from aiohttp import web

from chatd.domain.errors import InvalidInput
from chatd.interfaces.http import current_user, json_object, json_response, path_id, string_field
from chatd.interfaces.keys import DIRECT, MODERATION


def user_id_field(body: dict[str, Any]) -> int:
    value = body.get("user_id")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise InvalidInput("'user_id' must be a positive integer", code="invalid_field")
    return value


async def open_dm(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await json_object(request)
    room, created = await request.app[DIRECT].open(user=user, other_id=user_id_field(body))
    return json_response(room, status=201 if created else 200)


async def set_role(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await json_object(request)
    member = await request.app[MODERATION].set_role(
        room_id=path_id(request, "room_id"),
        actor=user,
        user_id=path_id(request, "user_id"),
        role=string_field(body, "role"),
    )
    return json_response({"user": member.user, "role": member.role})


async def kick(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await json_object(request)
    await request.app[MODERATION].kick(
        room_id=path_id(request, "room_id"), actor=user, user_id=user_id_field(body)
    )
    return web.Response(status=204)


async def ban(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await json_object(request)
    made, created = await request.app[MODERATION].ban(
        room_id=path_id(request, "room_id"), actor=user, user_id=user_id_field(body)
    )
    return json_response(made, status=201 if created else 200)


async def unban(request: web.Request) -> web.Response:
    user = await current_user(request)
    await request.app[MODERATION].unban(
        room_id=path_id(request, "room_id"), actor=user, user_id=path_id(request, "user_id")
    )
    return web.Response(status=204)


async def list_bans(request: web.Request) -> web.Response:
    user = await current_user(request)
    bans = await request.app[MODERATION].bans(room_id=path_id(request, "room_id"), viewer=user)
    return json_response({"bans": bans})


async def invite(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await json_object(request)
    invitation, created = await request.app[MODERATION].invite(
        room_id=path_id(request, "room_id"), actor=user, user_id=user_id_field(body)
    )
    return json_response(invitation, status=201 if created else 200)


async def list_invitations(request: web.Request) -> web.Response:
    user = await current_user(request)
    invitations = await request.app[MODERATION].invitations(
        room_id=path_id(request, "room_id"), viewer=user
    )
    return json_response({"invitations": invitations})


async def revoke_invitation(request: web.Request) -> web.Response:
    user = await current_user(request)
    await request.app[MODERATION].revoke(
        room_id=path_id(request, "room_id"), actor=user, user_id=path_id(request, "user_id")
    )
    return web.Response(status=204)


async def my_invitations(request: web.Request) -> web.Response:
    user = await current_user(request)
    invitations = await request.app[MODERATION].invitations_of(user=user)
    return json_response({"invitations": invitations})


def add_moderation_routes(app: web.Application) -> None:
    app.router.add_post("/api/dms", open_dm)
    app.router.add_post("/api/rooms/{room_id}/members/{user_id}/role", set_role)
    app.router.add_post("/api/rooms/{room_id}/kick", kick)
    app.router.add_get("/api/rooms/{room_id}/bans", list_bans)
    app.router.add_post("/api/rooms/{room_id}/bans", ban)
    app.router.add_delete("/api/rooms/{room_id}/bans/{user_id}", unban)
    app.router.add_get("/api/rooms/{room_id}/invitations", list_invitations)
    app.router.add_post("/api/rooms/{room_id}/invitations", invite)
    app.router.add_delete("/api/rooms/{room_id}/invitations/{user_id}", revoke_invitation)
    app.router.add_get("/api/me/invitations", my_invitations)
