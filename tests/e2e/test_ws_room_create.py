"""A room created while the creator's socket is open is followed by that socket at once."""

from tests.wsclient import WsClient


async def test_the_creators_open_socket_follows_a_new_room(api):
    alice = await api.user_token("alice")
    bob = await api.user_token("bob")
    base_url = api.base_url
    socket = await WsClient.connect(base_url, alice)
    try:
        assert socket.ready["rooms"] == []
        status, room = await api.call("POST", "/api/rooms", token=alice, json={"name": "new"})
        assert status == 201
        joined = await socket.expect("join_room", room_id=room["id"])
        assert joined["user"]["username"] == "alice"

        assert (await api.call("POST", f"/api/rooms/{room['id']}/join", token=bob))[0] == 200
        path = f"/api/rooms/{room['id']}/messages"
        assert (await api.call("POST", path, token=bob, json={"body": "hi"}))[0] == 201
        messages = await socket.collect_messages(room["id"], lambda got: len(got) == 2)
        assert [(m["seq"], m["kind"], m["body"]) for m in messages] == [
            (1, "system", "bob joined"),
            (2, "user", "hi"),
        ]
    finally:
        await socket.close()


async def test_leave_and_rejoin_at_once_keeps_the_stream_gapless(api):
    alice = await api.user_token("alice")
    bob = await api.user_token("bob")
    status, room = await api.call("POST", "/api/rooms", token=bob, json={"name": "r"})
    assert status == 201
    assert (await api.call("POST", f"/api/rooms/{room['id']}/join", token=alice))[0] == 200
    base_url = api.base_url
    socket = await WsClient.connect(base_url, alice)
    try:
        for _ in range(3):  # the user channel's leave_room/join_room arrive after each rejoin
            assert (await socket.request({"type": "leave_room", "room_id": room["id"]}))[
                "type"
            ] == "ack"
            assert (await socket.request({"type": "join_room", "room_id": room["id"]}))[
                "type"
            ] == "ack"
        path = f"/api/rooms/{room['id']}/messages"
        for n in range(20):
            assert (await api.call("POST", path, token=bob, json={"body": f"m{n}"}))[0] == 201
        messages = await socket.collect_messages(
            room["id"], lambda got: bool(got) and got[-1]["body"] == "m19"
        )
        user_bodies = [m["body"] for m in messages if m["kind"] == "user"]
        assert user_bodies == [f"m{n}" for n in range(20)]
        numbers = [m["seq"] for m in messages]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    finally:
        await socket.close()
