"""Rooms over HTTP: create, list, get, join, leave, members, and their errors."""

import pytest

ROOM_KEYS = {"id", "name", "topic", "owner_id", "created_at", "member_count", "kind", "private"}


async def create_room(api, token: str, name: str = "general", **extra) -> dict:
    status, room = await api.call("POST", "/api/rooms", token=token, json={"name": name, **extra})
    assert status == 201, room
    return room


async def test_create_get_and_list(api):
    alice = await api.user_token("alice")
    me = (await api.call("GET", "/api/me", token=alice))[1]
    room = await create_room(api, alice, "  general ", topic="all things")
    assert set(room) == ROOM_KEYS
    assert (room["name"], room["topic"], room["owner_id"], room["member_count"]) == (
        "general",
        "all things",
        me["id"],
        1,
    )
    assert await api.call("GET", f"/api/rooms/{room['id']}", token=alice) == (200, room)
    status, listing = await api.call("GET", "/api/rooms", token=alice)
    assert (status, listing) == (200, {"rooms": [{**room, "joined": True}]})
    status, history = await api.call("GET", f"/api/rooms/{room['id']}/messages", token=alice)
    assert (status, history) == (200, {"messages": []}), "creating a room posts nothing"


async def test_list_is_newest_first_and_pages_with_before_id(api):
    alice, bob = await api.user_token("alice"), await api.user_token("bob")
    ids = [(await create_room(api, alice, f"room {n}"))["id"] for n in range(5)]
    status, body = await api.call("GET", "/api/rooms?limit=2", token=bob)
    assert status == 200
    assert [(r["id"], r["joined"]) for r in body["rooms"]] == [(ids[4], False), (ids[3], False)]
    seen, cursor = [], ""
    while True:
        _, body = await api.call("GET", f"/api/rooms?limit=2{cursor}", token=bob)
        if not body["rooms"]:
            break
        seen += [room["id"] for room in body["rooms"]]
        cursor = f"&before_id={seen[-1]}"
    assert seen == ids[::-1]


async def test_join_twice_is_one_membership_and_one_system_message(api):
    alice, bob = await api.user_token("alice"), await api.user_token("bob")
    room = await create_room(api, alice)
    path = f"/api/rooms/{room['id']}"
    status, joined = await api.call("POST", f"{path}/join", token=bob)
    assert status == 200 and joined == {**room, "member_count": 2}
    assert await api.call("POST", f"{path}/join", token=bob) == (200, joined)
    status, body = await api.call("GET", f"{path}/members", token=bob)
    assert status == 200
    assert [(m["user"]["username"], m["role"], m["online"]) for m in body["members"]] == [
        ("alice", "owner", False),
        ("bob", "member", False),
    ]
    assert set(body["members"][0]) == {"user", "role", "joined_at", "online"}
    _, history = await api.call("GET", f"{path}/messages", token=alice)
    [message] = history["messages"]
    assert (message["kind"], message["seq"], message["author"], message["body"]) == (
        "system",
        1,
        None,
        "bob joined",
    )


async def test_leave_posts_a_system_message_and_ends_access(api):
    alice, bob = await api.user_token("alice"), await api.user_token("bob")
    room = await create_room(api, alice)
    path = f"/api/rooms/{room['id']}"
    await api.call("POST", f"{path}/join", token=bob)
    assert await api.call("POST", f"{path}/leave", token=bob) == (204, None)
    _, history = await api.call("GET", f"{path}/messages", token=alice)
    assert [(m["seq"], m["kind"], m["body"]) for m in history["messages"]] == [
        (1, "system", "bob joined"),
        (2, "system", "bob left"),
    ]
    status, body = await api.call("GET", f"{path}/messages", token=bob)
    assert (status, body["error"]["code"]) == (403, "not_a_member")
    assert await api.call("POST", f"{path}/leave", token=bob) == (204, None), "idempotent"
    _, history = await api.call("GET", f"{path}/messages", token=alice)
    assert len(history["messages"]) == 2


async def test_the_owner_may_leave_and_the_room_stays(api):
    alice = await api.user_token("alice")
    room = await create_room(api, alice)
    assert await api.call("POST", f"/api/rooms/{room['id']}/leave", token=alice) == (204, None)
    status, body = await api.call("GET", f"/api/rooms/{room['id']}", token=alice)
    assert (status, body["member_count"], body["owner_id"]) == (200, 0, room["owner_id"])


async def test_unknown_rooms_are_404_on_every_route(api):
    alice = await api.user_token("alice")
    for method, path, body in [
        ("GET", "/api/rooms/999", None),
        ("POST", "/api/rooms/999/join", None),
        ("POST", "/api/rooms/999/leave", None),
        ("GET", "/api/rooms/999/members", None),
        ("GET", "/api/rooms/999/messages", None),
        ("POST", "/api/rooms/999/messages", {"body": "hi"}),
    ]:
        status, error = await api.call(method, path, token=alice, json=body)
        assert (status, error["error"]["code"]) == (404, "room_not_found"), (method, path)


async def test_non_members_get_403(api):
    alice, bob = await api.user_token("alice"), await api.user_token("bob")
    room = await create_room(api, alice)
    path = f"/api/rooms/{room['id']}"
    for method, suffix, body in [
        ("GET", "/messages", None),
        ("POST", "/messages", {"body": "hi"}),
        ("GET", "/members", None),
    ]:
        status, error = await api.call(method, path + suffix, token=bob, json=body)
        assert (status, error["error"]["code"]) == (403, "not_a_member"), suffix
    assert (await api.call("GET", path, token=bob))[0] == 200, "anyone may look a room up"


async def test_every_room_route_needs_a_token(api):
    for method, path in [
        ("POST", "/api/rooms"),
        ("GET", "/api/rooms"),
        ("GET", "/api/rooms/1"),
        ("POST", "/api/rooms/1/join"),
        ("POST", "/api/rooms/1/leave"),
        ("GET", "/api/rooms/1/members"),
        ("GET", "/api/rooms/1/messages"),
        ("POST", "/api/rooms/1/messages"),
    ]:
        status, body = await api.call(method, path, json={})
        assert (status, body["error"]["code"]) == (401, "not_authenticated"), path


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_field"),
        ({"name": 5}, "invalid_field"),
        ({"name": "   "}, "invalid_room_name"),
        ({"name": "x" * 101}, "invalid_room_name"),
        ({"name": "ok", "topic": ["no"]}, "invalid_field"),
        ({"name": "ok", "topic": "t" * 501}, "invalid_topic"),
        ({"name": "nul \u0000 byte"}, "bad_text"),
    ],
)
async def test_create_room_422(api, body, code):
    alice = await api.user_token("alice")
    status, error = await api.call("POST", "/api/rooms", token=alice, json=body)
    assert (status, error["error"]["code"]) == (422, code)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=0", "invalid_limit"),
        ("limit=201", "invalid_limit"),
        ("limit=-5", "invalid_query"),
        ("limit=ten", "invalid_query"),
        ("before_id=1.5", "invalid_query"),
        ("before_id=99999999999999999999", "invalid_query"),
    ],
)
async def test_list_rooms_422(api, query, code):
    alice = await api.user_token("alice")
    status, error = await api.call("GET", f"/api/rooms?{query}", token=alice)
    assert (status, error["error"]["code"]) == (422, code)


@pytest.mark.parametrize("path", ["/api/rooms/abc", "/api/rooms/0/join", "/api/rooms/-1/members"])
async def test_bad_room_ids_are_422(api, path):
    alice = await api.user_token("alice")
    method = "POST" if path.endswith("join") else "GET"
    status, error = await api.call(method, path, token=alice)
    assert (status, error["error"]["code"]) == (422, "invalid_path")


async def test_malformed_json_is_400(api):
    alice = await api.user_token("alice")
    for data, code in [(b"{not json", "malformed_json"), (b"[1]", "expected_object")]:
        status, error = await api.call("POST", "/api/rooms", token=alice, data=data)
        assert (status, error["error"]["code"]) == (400, code)
