"""REST routes of rooms and their messages."""

from typing import Any

from aiohttp import web

from chatd.domain.errors import InvalidInput
from chatd.domain.rules import DEFAULT_PAGE
from chatd.interfaces.http import (
    current_user,
    int_query,
    json_object,
    json_response,
    path_id,
    string_field,
    to_json,
)
from chatd.interfaces.keys import MESSAGING, ROOMS


async def create_room(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await json_object(request)
    room = await request.app[ROOMS].create(
        owner=user,
        name=string_field(body, "name"),
        topic=string_field(body, "topic", required=False),
        private=bool_field(body, "private"),
    )
    return json_response(room, status=201)


def bool_field(body: dict[str, Any], name: str) -> bool:
    """An optional boolean, false when absent or null."""
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise InvalidInput(f"'{name}' must be true or false", code="invalid_field")
    return bool(value)


async def list_rooms(request: web.Request) -> web.Response:
    user = await current_user(request)
    page = await request.app[ROOMS].list_rooms(
        viewer=user,
        limit=int_query(request, "limit", default=DEFAULT_PAGE),
        before_id=int_query(request, "before_id"),
    )
    return json_response({"rooms": [{**to_json(room), "joined": joined} for room, joined in page]})


async def get_room(request: web.Request) -> web.Response:
    user = await current_user(request)
    room = await request.app[ROOMS].get(room_id=path_id(request, "room_id"), viewer=user)
    return json_response(room)


async def join_room(request: web.Request) -> web.Response:
    user = await current_user(request)
    room = await request.app[ROOMS].join(room_id=path_id(request, "room_id"), user=user)
    return json_response(room)


async def leave_room(request: web.Request) -> web.Response:
    user = await current_user(request)
    await request.app[ROOMS].leave(room_id=path_id(request, "room_id"), user=user)
    return web.Response(status=204)


async def list_members(request: web.Request) -> web.Response:
    user = await current_user(request)
    members = await request.app[ROOMS].members(room_id=path_id(request, "room_id"), viewer=user)
    return json_response({"members": members})


async def list_messages(request: web.Request) -> web.Response:
    user = await current_user(request)
    messages = await request.app[MESSAGING].history(
        room_id=path_id(request, "room_id"),
        reader=user,
        before_seq=int_query(request, "before_seq"),
        after_seq=int_query(request, "after_seq"),
        limit=int_query(request, "limit", default=DEFAULT_PAGE),
    )
    return json_response({"messages": messages})


async def post_message(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await json_object(request)
    message, created = await request.app[MESSAGING].post(
        room_id=path_id(request, "room_id"),
        author=user,
        body=string_field(body, "body"),
        client_id=string_field(body, "client_id", required=False),
    )
    return json_response(message, status=201 if created else 200)


def add_room_routes(app: web.Application) -> None:
    app.router.add_post("/api/rooms", create_room)
    app.router.add_get("/api/rooms", list_rooms)
    app.router.add_get("/api/rooms/{room_id}", get_room)
    app.router.add_post("/api/rooms/{room_id}/join", join_room)
    app.router.add_post("/api/rooms/{room_id}/leave", leave_room)
    app.router.add_get("/api/rooms/{room_id}/members", list_members)
    app.router.add_get("/api/rooms/{room_id}/messages", list_messages)
    app.router.add_post("/api/rooms/{room_id}/messages", post_message)
