"""Each success answer of the DM, moderation and chat-feature routes matches docs/openapi.yaml.

schemathesis (test_openapi_schemathesis.py) checks every answer it gets, but its requests share
one server's state: it soon bans or kicks the other user and leaves its own room, after which
these routes mostly answer 403 and 404. Here each route is walked once, on purpose, to its
success answer (and its second, idempotent one where it has one), and the body is validated
against the operation's schema in the spec."""

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text())

NEW_OPERATIONS = {
    ("POST", "/api/dms"),
    ("POST", "/api/rooms/{room_id}/members/{user_id}/role"),
    ("POST", "/api/rooms/{room_id}/kick"),
    ("GET", "/api/rooms/{room_id}/bans"),
    ("POST", "/api/rooms/{room_id}/bans"),
    ("DELETE", "/api/rooms/{room_id}/bans/{user_id}"),
    ("GET", "/api/rooms/{room_id}/invitations"),
    ("POST", "/api/rooms/{room_id}/invitations"),
    ("DELETE", "/api/rooms/{room_id}/invitations/{user_id}"),
    ("GET", "/api/me/invitations"),
    ("PATCH", "/api/rooms/{room_id}/messages/{seq}"),
    ("DELETE", "/api/rooms/{room_id}/messages/{seq}"),
    ("POST", "/api/rooms/{room_id}/read"),
    ("GET", "/api/me/rooms"),
    ("GET", "/api/rooms/{room_id}/search"),
}


def validate(template: str, method: str, status: int, body: Any) -> None:
    """Validate against the operation's response schema; its $refs resolve in the spec."""
    response = SPEC["paths"][template][method.lower()]["responses"][str(status)]
    schema = {**SPEC, **response["content"]["application/json"]["schema"]}
    jsonschema.Draft202012Validator(schema).validate(body)


class Walk:
    """Calls routes and checks each answer's status and body against the spec."""

    def __init__(self, api) -> None:
        self.api = api
        self.checked: set[tuple[str, str, int]] = set()

    async def __call__(
        self,
        method: str,
        template: str,
        token: str,
        *,
        ids: dict,
        json=None,
        status: int,
        query: str = "",
    ) -> Any:
        path = template.format(**ids) + query
        got, body = await self.api.call(method, path, token=token, json=json)
        assert got == status, (method, path, got, body)
        if body is not None:
            validate(template, method, got, body)
        self.checked.add((method, template, got))
        return body


async def test_the_new_routes_answer_the_shapes_the_spec_describes(api):
    alice = await api.register("alice")
    bob = await api.register("bob")
    carol = await api.register("carol")
    ta, tb, tc = [(await api.login(u))["access_token"] for u in ("alice", "bob", "carol")]
    walk = Walk(api)
    room = await walk(
        "POST", "/api/rooms", ta, ids={}, json={"name": "r", "private": True}, status=201
    )
    assert room["kind"] == "room" and room["private"] is True
    ids = {"room_id": room["id"], "user_id": bob["id"]}

    dm = await walk("POST", "/api/dms", ta, ids=ids, json={"user_id": bob["id"]}, status=201)
    assert dm["kind"] == "dm"
    await walk("POST", "/api/dms", tb, ids=ids, json={"user_id": alice["id"]}, status=200)

    invitations = "/api/rooms/{room_id}/invitations"
    for status in (201, 200):
        await walk("POST", invitations, ta, ids=ids, json={"user_id": bob["id"]}, status=status)
    await walk("GET", invitations, ta, ids=ids, status=200)
    await walk("GET", "/api/me/invitations", tb, ids=ids, status=200)
    await walk("POST", "/api/rooms/{room_id}/join", tb, ids=ids, status=200)
    role = "/api/rooms/{room_id}/members/{user_id}/role"
    await walk("POST", role, ta, ids=ids, json={"role": "moderator"}, status=200)
    members = await walk("GET", "/api/rooms/{room_id}/members", ta, ids=ids, status=200)
    assert [m["role"] for m in members["members"]] == ["owner", "moderator"]

    on_carol = {**ids, "user_id": carol["id"]}
    await walk("POST", invitations, tb, ids=ids, json={"user_id": carol["id"]}, status=201)
    await walk("DELETE", invitations + "/{user_id}", tc, ids=on_carol, status=204)  # declined
    bans = "/api/rooms/{room_id}/bans"
    for status in (201, 200):
        await walk("POST", bans, tb, ids=ids, json={"user_id": carol["id"]}, status=status)
    await walk("GET", bans, tb, ids=ids, status=200)
    await walk("DELETE", bans + "/{user_id}", tb, ids=on_carol, status=204)

    messages = "/api/rooms/{room_id}/messages"
    kept = await walk("POST", messages, tb, ids=ids, json={"body": "hello world"}, status=201)
    gone = await walk("POST", messages, tb, ids=ids, json={"body": "bye"}, status=201)
    one = messages + "/{seq}"
    await walk("PATCH", one, tb, ids={**ids, "seq": kept["seq"]}, json={"body": "hi"}, status=200)
    await walk("DELETE", one, ta, ids={**ids, "seq": gone["seq"]}, status=204)
    history = (await walk("GET", messages, ta, ids=ids, status=200))["messages"]
    assert {(m["seq"], m["body"], m["deleted"], m["edited_at"] is not None) for m in history} >= {
        (kept["seq"], "hi", False, True),
        (gone["seq"], None, True, False),
    }
    found = await walk("GET", "/api/rooms/{room_id}/search", ta, ids=ids, status=200, query="?q=hi")
    assert [m["seq"] for m in found["messages"]] == [kept["seq"]]
    await walk("POST", "/api/rooms/{room_id}/read", ta, ids=ids, json={"seq": 2}, status=200)
    await walk("GET", "/api/me/rooms", tb, ids=ids, status=200)
    await walk(
        "POST", "/api/rooms/{room_id}/kick", ta, ids=ids, json={"user_id": bob["id"]}, status=204
    )
    assert {(method, template) for method, template, _ in walk.checked} >= NEW_OPERATIONS


def test_the_check_can_fail():
    """A room without `private`, and a message whose `deleted` is missing, are refused."""
    room = {"id": 1, "name": "r", "topic": "", "owner_id": 1, "member_count": 1, "kind": "room"}
    room["created_at"] = "2026-11-29T12:00:00+00:00"
    with pytest.raises(jsonschema.ValidationError, match="'private' is a required property"):
        validate("/api/rooms/{room_id}", "GET", 200, room)
    message = {"id": 1, "room_id": 1, "seq": 1, "kind": "user", "author": None, "body": "hi"}
    message |= {"client_id": None, "created_at": room["created_at"], "edited_at": None}
    with pytest.raises(jsonschema.ValidationError, match="'deleted' is a required property"):
        validate("/api/rooms/{room_id}/messages", "GET", 200, {"messages": [message]})
