"""The chat features' routes on the real app over a loopback socket: edit, delete, read
markers, my rooms, search, and every refusal with its documented status and code."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from chatd.app import create_app
from tests.support import Api
from tests.wsclient import WsClient


async def call(api, method: str, path: str, token: str, json=None) -> tuple[int, dict | None]:
    return await api.call(method, path, token=token, json=json)


async def code_of(api, method: str, path: str, token: str, json=None) -> tuple[int, str]:
    status, body = await call(api, method, path, token, json)
    return status, body["error"]["code"]


async def history(api, token: str, room_id: int) -> list[dict]:
    status, body = await call(api, "GET", f"/api/rooms/{room_id}/messages?limit=200", token)
    assert status == 200, body
    return body["messages"]


@pytest.fixture
async def posted(api, alice, bob, room) -> dict:
    """bob joins alice's room (seq 1) and posts (seq 2)."""
    await api.join(bob, room["id"])
    return await api.post(bob, room["id"], "helo")


async def test_edit_then_delete_over_rest(api, alice, bob, room, posted):
    path = f"/api/rooms/{room['id']}/messages/{posted['seq']}"
    status, edited = await call(api, "PATCH", path, bob, {"body": " hello "})
    assert status == 200, edited
    assert set(edited) == {"room_id", "seq", "target_seq", "body", "edited_at"}
    assert (edited["seq"], edited["target_seq"], edited["body"]) == (3, 2, "hello")
    [_, message] = await history(api, alice, room["id"])
    assert (message["body"], message["edited_at"], message["deleted"]) == (
        "hello",
        edited["edited_at"],
        False,
    )
    status, _ = await call(api, "DELETE", path, alice)  # the owner deletes bob's message
    assert status == 204
    status, _ = await call(api, "DELETE", path, bob)  # deleted already: still 204, no event
    assert status == 204
    [_, tombstone] = await history(api, bob, room["id"])
    assert (tombstone["seq"], tombstone["body"], tombstone["deleted"]) == (2, None, True)
    posted_after = await api.post(alice, room["id"], "next")
    assert posted_after["seq"] == 5  # the edit took 3, the delete 4


async def test_refusals_have_documented_codes(api, alice, bob, room, posted):
    base = f"/api/rooms/{room['id']}/messages"
    carol = await api.user_token("carol")
    cases = [
        ("PATCH", f"{base}/2", alice, {"body": "x"}, 403, "not_your_message"),
        ("DELETE", f"{base}/2", carol, None, 403, "not_a_member"),
        ("PATCH", f"{base}/1", alice, {"body": "x"}, 403, "system_message_immutable"),
        ("DELETE", f"{base}/1", alice, None, 403, "system_message_immutable"),
        ("PATCH", f"{base}/99", bob, {"body": "x"}, 404, "message_not_found"),
        ("DELETE", f"{base}/99", bob, None, 404, "message_not_found"),
        ("PATCH", "/api/rooms/999/messages/1", bob, {"body": "x"}, 404, "room_not_found"),
        ("PATCH", f"{base}/2", bob, {"body": "  "}, 422, "empty_body"),
        ("PATCH", f"{base}/2", bob, {"body": "x" * 4001}, 422, "body_too_long"),
        ("PATCH", f"{base}/2", bob, {"body": 5}, 422, "invalid_field"),
        ("PATCH", f"{base}/2", bob, ["x"], 400, "expected_object"),
        ("PATCH", f"{base}/0", bob, {"body": "x"}, 422, "invalid_path"),
        ("DELETE", f"{base}/abc", bob, None, 422, "invalid_path"),
    ]
    for method, path, token, json, status, code in cases:
        assert await code_of(api, method, path, token, json) == (status, code), (method, path)
    await api.join(carol, room["id"])
    assert await code_of(api, "DELETE", f"{base}/2", carol) == (403, "not_your_message")
    assert (await call(api, "DELETE", f"{base}/2", bob))[0] == 204
    assert await code_of(api, "PATCH", f"{base}/2", bob, {"body": "x"}) == (409, "message_deleted")
    # seq 3: carol's "joined"; seq 4: the delete's own position, no message.
    assert await code_of(api, "PATCH", f"{base}/4", bob, {"body": "x"}) == (
        404,
        "message_not_found",
    )
    status, body = await api.call("PATCH", f"{base}/2", json={"body": "x"})
    assert (status, body["error"]["code"]) == (401, "not_authenticated")


class TwoHoursLater:
    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(hours=2)


async def test_the_edit_window_and_the_moderator_setting(settings, aiohttp_client):
    later = dataclasses.replace(settings, edit_window=3600, moderators_delete=False)
    api = Api(await aiohttp_client(create_app(later, clock=TwoHoursLater())))
    alice, bob = await api.user_token("alice"), await api.user_token("bob")
    room_id = await api.create_room(alice)
    await api.join(bob, room_id)
    message = await api.post(bob, room_id, "old news")
    path = f"/api/rooms/{room_id}/messages/{message['seq']}"
    assert await code_of(api, "PATCH", path, bob, {"body": "x"}) == (403, "edit_window_closed")
    assert await code_of(api, "DELETE", path, alice) == (403, "not_your_message")
    assert (await call(api, "DELETE", path, bob))[0] == 204  # deleting has no window


async def test_read_markers_and_my_rooms(api, alice, bob, room, posted):
    for n in range(3):
        await api.post(alice, room["id"], f"for bob {n}")
    other = await api.create_room(alice, "other")
    status, mine = await call(api, "GET", "/api/me/rooms", bob)
    assert status == 200
    [reading] = mine["rooms"]
    status, looked_up = await call(api, "GET", f"/api/rooms/{room['id']}", bob)
    assert reading == {**looked_up, "last_read_seq": 0, "unread": 3}
    read = f"/api/rooms/{room['id']}/read"
    assert await call(api, "POST", read, bob, {"seq": 4}) == (
        200,
        {"room_id": room["id"], "seq": 4},
    )
    assert await call(api, "POST", read, bob, {"seq": 2}) == (
        200,
        {"room_id": room["id"], "seq": 4},
    )
    [reading] = (await call(api, "GET", "/api/me/rooms", bob))[1]["rooms"]
    assert (reading["last_read_seq"], reading["unread"]) == (4, 1)
    assert await call(api, "POST", read, bob, {"seq": 10**9}) == (
        200,
        {"room_id": room["id"], "seq": 5},
    )
    rooms = (await call(api, "GET", "/api/me/rooms", alice))[1]["rooms"]
    assert [(r["id"], r["unread"]) for r in rooms] == [(room["id"], 1), (other, 0)]  # bob's
    for json, status, code in [
        ({"seq": -1}, 422, "invalid_field"),
        ({"seq": "4"}, 422, "invalid_field"),
        ({"seq": True}, 422, "invalid_field"),
        ({}, 422, "invalid_field"),
        ([], 400, "expected_object"),
    ]:
        assert await code_of(api, "POST", read, bob, json) == (status, code)
    carol = await api.user_token("carol")
    assert await code_of(api, "POST", read, carol, {"seq": 1}) == (403, "not_a_member")
    assert await code_of(api, "POST", "/api/rooms/999/read", bob, {"seq": 1}) == (
        404,
        "room_not_found",
    )


async def test_search_over_rest(api, alice, bob, room, posted):
    for body in ("the quick brown fox", "a lazy dog", "quick thinking", "Quick, quick!"):
        await api.post(alice, room["id"], body)
    search = f"/api/rooms/{room['id']}/search"
    status, found = await call(api, "GET", f"{search}?q=quick", bob)
    assert status == 200
    assert [m["body"] for m in found["messages"]] == [
        "Quick, quick!",
        "quick thinking",
        "the quick brown fox",
    ]
    status, page = await call(api, "GET", f"{search}?q=quick&limit=1&before_seq=6", bob)
    assert [m["body"] for m in page["messages"]] == ["quick thinking"]
    status, found = await call(api, "GET", f"{search}?q=quick%20-fox%20-thinking", bob)
    assert [m["body"] for m in found["messages"]] == ["Quick, quick!"]
    carol = await api.user_token("carol")
    for query, token, status, code in [
        ("q=", bob, 422, "invalid_search"),
        ("", bob, 422, "invalid_search"),
        ("q=%21%21", bob, 422, "invalid_search"),
        ("q=" + "x" * 201, bob, 422, "invalid_search"),
        ("q=fox&limit=0", bob, 422, "invalid_limit"),
        ("q=fox&limit=201", bob, 422, "invalid_limit"),
        ("q=fox&before_seq=x", bob, 422, "invalid_query"),
        ("q=fox", carol, 403, "not_a_member"),
    ]:
        assert await code_of(api, "GET", f"{search}?{query}", token) == (status, code), query
    assert await code_of(api, "GET", "/api/rooms/999/search?q=fox", bob) == (404, "room_not_found")


async def test_edit_and_delete_frames_on_the_websocket(api, alice, bob, room, posted):
    client = await WsClient.connect(api.base_url, bob)
    try:
        frame = {"type": "edit_message", "room_id": room["id"], "seq": posted["seq"]}
        ack = await client.request({**frame, "body": " hello "})
        assert ack["type"] == "ack", ack
        assert (ack["edit"]["seq"], ack["edit"]["target_seq"], ack["edit"]["body"]) == (
            3,
            2,
            "hello",
        )
        assert await client.expect("message_edited") == {"type": "message_edited", **ack["edit"]}
        refusals = [
            ({**frame, "body": ""}, "empty_body"),
            ({**frame, "seq": 1, "body": "x"}, "system_message_immutable"),
            ({**frame, "seq": 3, "body": "x"}, "message_not_found"),
            ({**frame, "seq": 0, "body": "x"}, "invalid_field"),
            ({"type": "edit_message", "room_id": room["id"], "seq": 2}, "invalid_field"),
            ({"type": "delete_message", "room_id": room["id"]}, "invalid_field"),
            ({"type": "delete_message", "room_id": room["id"], "seq": "2"}, "invalid_field"),
            ({"type": "delete_message", "room_id": 999, "seq": 2}, "room_not_found"),
        ]
        for sent, code in refusals:
            error = await client.request(sent)
            assert (error["type"], error["code"]) == ("error", code), sent
        ack = await client.request({"type": "delete_message", "room_id": room["id"], "seq": 2})
        assert ack == {"type": "ack", "ref": ack["ref"]}
        deleted = await client.expect("message_deleted")
        assert deleted == {
            "type": "message_deleted",
            "room_id": room["id"],
            "seq": 4,
            "target_seq": 2,
        }
    finally:
        await client.close()


async def test_a_moderator_deletes_any_message_and_a_demoted_one_no_longer(api, alice, bob, room):
    """The moderator role (rooms side) meets the delete rule (message side) in PostgreSQL."""
    carol = await api.user_token("carol")
    for token in (bob, carol):
        await api.join(token, room["id"])
    status, me = await call(api, "GET", "/api/me", bob)
    role_path = f"/api/rooms/{room['id']}/members/{me['id']}/role"
    status, _ = await call(api, "POST", role_path, alice, {"role": "moderator"})
    assert status == 200
    first = await api.post(carol, room["id"], "spam")
    second = await api.post(carol, room["id"], "more spam")
    base = f"/api/rooms/{room['id']}/messages"
    assert (await call(api, "DELETE", f"{base}/{first['seq']}", bob))[0] == 204
    status, _ = await call(api, "POST", role_path, alice, {"role": "member"})
    assert status == 200
    assert await code_of(api, "DELETE", f"{base}/{second['seq']}", bob) == (
        403,
        "not_your_message",
    )
    bodies = {m["seq"]: m["body"] for m in await history(api, carol, room["id"])}
    assert (bodies[first["seq"]], bodies[second["seq"]]) == (None, "more spam")
