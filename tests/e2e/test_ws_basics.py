"""/ws on one in-process server: auth, ready, the client frames and their replies."""

import asyncio

import aiohttp
import pytest

from tests.support import Api
from tests.wsclient import WsClient, seqs


async def test_ready_lists_the_users_rooms(api, alice, room):
    client = await WsClient.connect(api.base_url, alice)
    assert client.ready["user"]["username"] == "alice"
    assert client.ready["rooms"] == [room["id"]]
    await client.close()


async def test_send_join_leave_typing_between_two_users(api, alice, bob, room):
    a = await WsClient.connect(api.base_url, alice)
    b = await WsClient.connect(api.base_url, bob)
    joined = await b.request({"type": "join_room", "room_id": room["id"]})
    assert joined["type"] == "ack" and joined["room"]["id"] == room["id"]
    event = await a.expect("join_room")
    assert (event["room_id"], event["user"]["username"]) == (room["id"], "bob")
    system = await b.expect("system_message")
    assert system["message"]["kind"] == "system"

    ack = await b.request(
        {"type": "send_message", "room_id": room["id"], "body": "hi", "client_id": "c1"}
    )
    assert ack["message"]["body"] == "hi" and ack["message"]["client_id"] == "c1"
    got = await a.expect("new_message")
    assert got["message"] == ack["message"]
    assert (await b.expect("new_message"))["message"] == ack["message"]

    assert (await a.request({"type": "typing", "room_id": room["id"]}))["type"] == "ack"
    typing = await b.expect("typing")
    assert (typing["room_id"], typing["user"]["username"]) == (room["id"], "alice")

    assert (await b.request({"type": "leave_room", "room_id": room["id"]}))["type"] == "ack"
    left = await a.expect("leave_room")
    assert left["user"]["username"] == "bob"
    await a.close()
    await b.close()


async def test_rest_post_reaches_the_socket(api, alice, room):
    client = await WsClient.connect(api.base_url, alice)
    status, posted = await api.call(
        "POST", f"/api/rooms/{room['id']}/messages", token=alice, json={"body": "via curl"}
    )
    assert status == 201
    assert (await client.expect("new_message"))["message"] == posted
    await client.close()


async def test_a_join_over_rest_reaches_the_users_open_socket(api, alice, bob, room):
    b = await WsClient.connect(api.base_url, bob)
    assert b.ready["rooms"] == []
    status, _ = await api.call("POST", f"/api/rooms/{room['id']}/join", token=bob)
    assert status == 200
    await b.expect("join_room", room_id=room["id"])
    status, posted = await api.call(
        "POST", f"/api/rooms/{room['id']}/messages", token=alice, json={"body": "welcome"}
    )
    assert (await b.expect("new_message"))["message"] == posted
    await b.close()


async def test_auth_resume_replays_then_goes_live(api, alice, room):
    for n in range(5):
        await api.call(
            "POST", f"/api/rooms/{room['id']}/messages", token=alice, json={"body": f"m{n}"}
        )
    client = await WsClient.connect(api.base_url, alice, resume={room["id"]: 2})
    replayed = await client.collect_messages(room["id"], lambda got: len(got) == 3)
    assert seqs(replayed) == [3, 4, 5]
    await api.call("POST", f"/api/rooms/{room['id']}/messages", token=alice, json={"body": "x"})
    live = await client.collect_messages(room["id"], lambda got: len(got) == 1)
    assert seqs(live) == [6]
    await client.close()


async def test_resume_frame_then_resumed(api, alice, room):
    client = await WsClient.connect(api.base_url, alice)
    for n in range(3):
        await api.call(
            "POST", f"/api/rooms/{room['id']}/messages", token=alice, json={"body": f"m{n}"}
        )
    assert seqs(await client.collect_messages(room["id"], lambda got: len(got) == 3)) == [1, 2, 3]
    await client.send({"type": "resume", "ref": "r", "rooms": {str(room["id"]): 1}})
    resumed = await client.expect("resumed")
    assert resumed["ref"] == "r"  # nothing replayed: 2 and 3 were sent already
    await client.close()


@pytest.mark.parametrize("first", [{"type": "auth", "token": "nope"}, {"type": "join_room"}])
async def test_bad_first_frame_closes_4401(api, first):
    client = await WsClient.connect(api.base_url)
    await client.send(first)
    assert await client.closed() == 4401
    await client.close()


async def test_binary_frame_closes_1003(api, alice):
    client = await WsClient.connect(api.base_url, alice)
    await client.ws.send_bytes(b"\x00\x01")
    assert await client.closed() == 1003
    await client.close()


async def test_oversized_frame_closes_1009(api, alice):
    client = await WsClient.connect(api.base_url, alice)
    await client.send({"type": "typing", "room_id": 1, "pad": "x" * 70_000})
    assert await client.closed() == 1009
    await client.close()


async def test_foreign_origin_is_refused_before_the_upgrade(api):
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(
                api.base_url.replace("http", "ws") + "/ws",
                headers={"Origin": "https://evil.example"},
            )
        assert refused.value.status == 403
        own = api.base_url
        ws = await session.ws_connect(own.replace("http", "ws") + "/ws", headers={"Origin": own})
        await ws.close()


async def test_no_auth_frame_closes_4401_after_the_timeout(aiohttp_client, settings):
    from chatd.app import create_app

    app = create_app(settings.with_overrides(ws_auth_timeout=0.3))
    client = await WsClient.connect(Api(await aiohttp_client(app)).base_url)
    assert await asyncio.wait_for(client.closed(), 5) == 4401
    await client.close()


async def test_allowed_origins_replace_the_own_origin_rule(aiohttp_client, settings):
    from chatd.app import create_app

    app = create_app(settings.with_overrides(allowed_origins=("https://chat.example",)))
    client = await aiohttp_client(app)
    own = str(client.make_url("")).rstrip("/")
    url = own.replace("http", "ws") + "/ws"
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(url, headers={"Origin": "https://chat.example"})
        await ws.close()
        for refused in (own, "https://chat.example.evil", "null"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as error:
                await session.ws_connect(url, headers={"Origin": refused})
            assert error.value.status == 403


async def test_ws_and_rest_share_the_client_id_idempotency(api, alice, room):
    client = await WsClient.connect(api.base_url, alice)
    frame = {"type": "send_message", "room_id": room["id"], "body": "once", "client_id": "k-1"}
    first = await client.request(frame)
    again = await client.request(frame)
    assert first["message"] == again["message"]
    status, via_rest = await api.call(
        "POST",
        f"/api/rooms/{room['id']}/messages",
        token=alice,
        json={"body": "once", "client_id": "k-1"},
    )
    assert (status, via_rest) == (200, first["message"])
    after = await client.request({"type": "send_message", "room_id": room["id"], "body": "next"})
    last = after["message"]
    delivered = await client.collect_messages(room["id"], lambda got: got[-1:] == [last])
    assert seqs(delivered) == [1, 2], "the repeats were neither stored nor delivered again"
    await client.close()


async def test_a_rate_limited_send_is_an_error_with_retry_after(aiohttp_client, settings):
    from chatd.app import create_app
    from tests.support import Api

    api = Api(await aiohttp_client(create_app(settings.with_overrides(message_rate=2))))
    token = await api.user_token("carol")
    _, room = await api.call("POST", "/api/rooms", token=token, json={"name": "busy"})
    client = await WsClient.connect(api.base_url, token)
    frame = {"type": "send_message", "room_id": room["id"], "body": "hi"}
    assert [(await client.request(frame))["type"] for _ in range(2)] == ["ack", "ack"]
    refused = await client.request(frame)
    assert (refused["type"], refused["code"]) == ("error", "rate_limited")
    assert 1 <= refused["retry_after"] <= 10
    await client.close()


async def test_auth_resume_of_a_foreign_room_is_an_error_and_the_rest_replays(
    api, alice, bob, room
):
    await api.call("POST", f"/api/rooms/{room['id']}/messages", token=alice, json={"body": "a"})
    _, other = await api.call("POST", "/api/rooms", token=bob, json={"name": "bobs"})
    client = await WsClient.connect(api.base_url, alice, resume={other["id"]: 0, room["id"]: 0})
    assert client.ready["rooms"] == [room["id"]]
    assert (await client.expect("error"))["code"] == "not_a_member"
    assert seqs(await client.collect_messages(room["id"], lambda got: len(got) == 1)) == [1]
    await client.close()
