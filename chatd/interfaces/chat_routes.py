"""REST routes of the chat features: edit and delete a message, read markers, search."""

from typing import Any

from aiohttp import web

from chatd.application.frames import edit_json
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
from chatd.interfaces.keys import MESSAGE_CHANGES, READ_MARKERS, SEARCH

MAX_SEQ = 2**63 - 1


async def edit_message(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await json_object(request)
    edited = await request.app[MESSAGE_CHANGES].edit(
        room_id=path_id(request, "room_id"),
        seq=path_id(request, "seq"),
        editor=user,
        body=string_field(body, "body"),
    )
    return json_response(edit_json(edited))


async def delete_message(request: web.Request) -> web.Response:
    user = await current_user(request)
    await request.app[MESSAGE_CHANGES].delete(
        room_id=path_id(request, "room_id"), seq=path_id(request, "seq"), actor=user
    )
    return web.Response(status=204)


async def mark_read(request: web.Request) -> web.Response:
    user = await current_user(request)
    body = await json_object(request)
    room_id = path_id(request, "room_id")
    seq = await request.app[READ_MARKERS].mark_read(
        room_id=room_id, user=user, seq=_seq_field(body)
    )
    return json_response({"room_id": room_id, "seq": seq})


async def my_rooms(request: web.Request) -> web.Response:
    user = await current_user(request)
    readings = await request.app[READ_MARKERS].my_rooms(user=user)
    rooms = [
        {**to_json(r.room), "last_read_seq": r.last_read_seq, "unread": r.unread} for r in readings
    ]
    return json_response({"rooms": rooms})


async def search(request: web.Request) -> web.Response:
    user = await current_user(request)
    messages = await request.app[SEARCH].search(
        room_id=path_id(request, "room_id"),
        reader=user,
        query=request.query.get("q", ""),
        before_seq=int_query(request, "before_seq"),
        limit=int_query(request, "limit", default=DEFAULT_PAGE),
    )
    return json_response({"messages": messages})


def _seq_field(body: dict[str, Any]) -> int:
    seq = body.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise InvalidInput("'seq' must be an integer >= 0", code="invalid_field")
    return seq


def add_chat_routes(app: web.Application) -> None:
    app.router.add_patch("/api/rooms/{room_id}/messages/{seq}", edit_message)
    app.router.add_delete("/api/rooms/{room_id}/messages/{seq}", delete_message)
    app.router.add_post("/api/rooms/{room_id}/read", mark_read)
    app.router.add_get("/api/me/rooms", my_rooms)
    app.router.add_get("/api/rooms/{room_id}/search", search)
