"""Every malformed or refused client frame gets its error frame (with the client's ref when it
had a readable one), and the connection and the server stay healthy."""

import json

import pytest

from tests.wsclient import WsClient

MEMBER_ROOM, OTHER_ROOM, NO_ROOM = "{member}", "{other}", 999_999

CASES = [
    # (frame text, expected ref, expected code)
    ("not json at all", None, "invalid_json"),
    ("[" * 60_000, None, "invalid_json"),
    ("[1, 2]", None, "expected_object"),
    ('"a string"', None, "expected_object"),
    ("{}", None, "unknown_type"),
    ('{"type": "dance", "ref": 1}', 1, "unknown_type"),
    ('{"type": 5, "ref": "r2"}', "r2", "unknown_type"),
    ('{"type": "join_room", "room_id": 1, "ref": {"a": 1}}', None, "invalid_ref"),
    ('{"type": "join_room", "ref": 3}', 3, "invalid_field"),
    ('{"type": "join_room", "room_id": "1", "ref": 4}', 4, "invalid_field"),
    ('{"type": "join_room", "room_id": -1, "ref": 5}', 5, "invalid_field"),
    ('{"type": "join_room", "room_id": true, "ref": 6}', 6, "invalid_field"),
    ('{"type": "join_room", "room_id": 1.5, "ref": 7}', 7, "invalid_field"),
    ('{"type": "join_room", "room_id": 1e400, "ref": 8}', 8, "invalid_field"),
    (f'{{"type": "join_room", "room_id": {NO_ROOM}, "ref": 9}}', 9, "room_not_found"),
    (f'{{"type": "leave_room", "room_id": {NO_ROOM}, "ref": 10}}', 10, "room_not_found"),
    ('{"type": "send_message", "room_id": {member}, "body": 5, "ref": 11}', 11, "invalid_field"),
    ('{"type": "send_message", "room_id": {member}, "ref": 12}', 12, "invalid_field"),
    ('{"type": "send_message", "room_id": {member}, "body": "  ", "ref": 13}', 13, "empty_body"),
    (
        '{"type": "send_message", "room_id": {member}, "body": "' + "x" * 4001 + '", "ref": 14}',
        14,
        "body_too_long",
    ),
    (
        '{"type": "send_message", "room_id": {member}, "body": "hi", "client_id": "'
        + "c" * 65
        + '", "ref": 15}',
        15,
        "invalid_client_id",
    ),
    ('{"type": "send_message", "room_id": {member}, "body": "\\ud800", "ref": 16}', 16, "bad_text"),
    ('{"type": "send_message", "room_id": {other}, "body": "hi", "ref": 17}', 17, "not_a_member"),
    ('{"type": "typing", "room_id": {other}, "ref": 18}', 18, "not_a_member"),
    ('{"type": "typing", "ref": 19}', 19, "invalid_field"),
    ('{"type": "resume", "rooms": [1], "ref": 20}', 20, "invalid_field"),
    ('{"type": "resume", "rooms": {"abc": 1}, "ref": 21}', 21, "invalid_field"),
    ('{"type": "resume", "rooms": {"1": -5}, "ref": 22}', 22, "invalid_field"),
    ('{"type": "resume", "ref": 23}', 23, "invalid_field"),
    ('{"type": "resume", "rooms": {"{other}": 0}, "ref": 24}', 24, "not_a_member"),
    ('{"type": "auth", "token": "again", "ref": 25}', 25, "invalid_token"),  # a bad renewal
    ('{"type": "auth", "ref": 26}', 26, "invalid_field"),
]


@pytest.fixture
async def setup(api):
    alice = await api.user_token("alice")
    bob = await api.user_token("bob")
    _, member = await api.call("POST", "/api/rooms", token=alice, json={"name": "mine"})
    _, other = await api.call("POST", "/api/rooms", token=bob, json={"name": "not mine"})
    base = api.base_url
    client = await WsClient.connect(base, alice)
    yield client, member["id"], other["id"]
    await client.close()


async def test_every_malformed_frame_gets_its_error_and_the_socket_stays_open(api, setup):
    client, member, other = setup
    assert len(CASES) >= 15
    for text, ref, code in CASES:
        await client.send(text.replace(MEMBER_ROOM, str(member)).replace(OTHER_ROOM, str(other)))
        error = await client.expect("error")
        assert (error["ref"], error["code"]) == (ref, code), text[:80]
        assert isinstance(error["message"], str) and error["message"]

    sent = await client.request({"type": "send_message", "room_id": member, "body": "still here"})
    assert sent["type"] == "ack" and sent["message"]["body"] == "still here"
    assert (await client.expect("new_message"))["message"] == sent["message"]
    status, _ = await api.call("GET", "/healthz")
    assert status == 200


async def test_a_resume_naming_a_foreign_room_still_ends_with_resumed(setup):
    client, member, other = setup
    await client.send({"type": "resume", "ref": "x", "rooms": {str(other): 0, str(member): 0}})
    assert (await client.expect("error"))["code"] == "not_a_member"
    assert (await client.expect("resumed"))["ref"] == "x"


def test_the_cases_are_valid_test_data():
    for text, _, _ in CASES:
        if text.startswith("{") and "1e400" not in text:
            json.loads(text.replace(MEMBER_ROOM, "1").replace(OTHER_ROOM, "2"))
