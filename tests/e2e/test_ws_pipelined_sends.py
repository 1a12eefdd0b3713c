"""A client that sends without waiting for acks: its messages overlap in the send path, yet are
stored, acknowledged and delivered in the order sent, and a later frame waits for them."""

from tests.wsclient import WsClient

COUNT = 100


async def test_pipelined_sends_keep_their_order_end_to_end(api, alice, room):
    client = await WsClient.connect(api.base_url, alice)
    for n in range(COUNT):
        await client.send(
            {"type": "send_message", "room_id": room["id"], "body": f"m{n}", "ref": n}
        )
    await client.send({"type": "leave_room", "room_id": room["id"], "ref": "leave"})
    acks, delivered = [], []
    while True:
        frame = await client.recv()
        assert frame["type"] != "error", frame
        if frame["type"] == "new_message":
            delivered.append(frame["message"]["body"])
        elif frame["type"] == "ack" and frame["ref"] == "leave":
            break
        elif frame["type"] == "ack":
            acks.append((frame["ref"], frame["message"]["seq"], frame["message"]["body"]))
    assert acks == [(n, n + 1, f"m{n}") for n in range(COUNT)]
    assert delivered == [f"m{n}" for n in range(COUNT)], "all delivered before the leave"
    await client.close()
