"""What an operator reads from one in-process server: /metrics moving as users act, the request id
and the answering process on every response, and the draining switch."""

from chatd.app import create_app
from chatd.interfaces.draining import DRAINING
from chatd.logs import INSTANCE
from tests.scrape import scrape, scrape_until
from tests.support import Api
from tests.wsclient import WsClient

POST_ROUTE = "/api/rooms/{room_id}/messages"


def requests_of(samples: dict, method: str, route: str, status: str) -> float:
    key = ("chatd_http_request_duration_seconds_count",)
    key += (("method", method), ("route", route), ("status", status))
    return samples.get(key, 0)


async def test_metrics_move_as_messages_flow(api, alice, room):
    before = await scrape(api.client)
    client = await WsClient.connect(api.base_url, alice)
    for n in range(2):
        await api.post(alice, room["id"], f"over rest {n}")
    ack = await client.request({"type": "send_message", "room_id": room["id"], "body": "ws"})
    assert ack["type"] == "ack"
    await client.collect_messages(room["id"], lambda got: len(got) == 3)

    during = await scrape(api.client)
    assert during[("chatd_ws_connections",)] == 1
    assert during[("chatd_ws_sessions",)] == 1
    stored = ("chatd_messages_stored_total", ("kind", "user"))
    assert during[stored] - before[stored] == 3
    published = ("chatd_events_published_total", ("type", "MessagePosted"))
    assert during[published] - before.get(published, 0) == 3
    # ready, three new_message frames and the ack, at least (writes may batch, counts do not)
    assert during[("chatd_ws_frames_delivered_total",)] >= 5
    assert requests_of(during, "POST", POST_ROUTE, "201") == 2
    frame = ("chatd_ws_frame_duration_seconds_count", ("type", "send_message"))
    assert during[frame] > before.get(frame, 0)
    assert during[("chatd_pg_pool_max",)] >= 1
    assert during[("chatd_pg_pool_connections", ("state", "in_use"))] >= 0
    assert during[("chatd_info", ("instance", INSTANCE))] == 1

    await client.close()
    # The server ends the session once it has read the close.
    await scrape_until(api.client, lambda samples: samples[("chatd_ws_sessions",)] == 0)


async def test_unknown_paths_share_one_route_label(api):
    for path in ("/nope", "/api/nope/1", "/api/nope/2"):
        assert (await api.call("GET", path))[0] == 404
    samples = await scrape(api.client)
    assert requests_of(samples, "GET", "unmatched", "404") == 3
    assert not any("/api/nope" in str(key) for key in samples)


async def test_login_refusals_are_counted_by_kind(settings, aiohttp_client):
    api = Api(await aiohttp_client(create_app(settings.with_overrides(login_rate=2))))
    await api.register("carol")
    wrong = {"username": "carol", "password": "wrong password"}
    statuses = [(await api.call("POST", "/api/auth/login", json=wrong))[0] for _ in range(3)]
    assert statuses == [401, 401, 429]
    samples = await scrape(api.client)
    assert samples[("chatd_rate_limit_refusals_total", ("kind", "login"))] == 1
    assert samples[("chatd_rate_limit_refusals_total", ("kind", "message"))] == 0


async def test_every_response_names_its_request_and_process(api):
    async with api.client.get("/healthz", headers={"X-Request-Id": "trace-42"}) as response:
        assert response.headers["X-Request-Id"] == "trace-42"
        assert response.headers["X-Chatd-Instance"] == INSTANCE
    async with api.client.get(
        "/api/me", headers={"X-Request-Id": "bad id\u00e9 " * 10}
    ) as response:
        assert response.status == 401
        made = response.headers["X-Request-Id"]
        assert len(made) == 32 and made.isalnum()


async def test_draining_turns_readiness_off_and_refuses_new_sockets(api, alice):
    client = await WsClient.connect(api.base_url, alice)
    api.client.app[DRAINING].set()
    status, body = await api.call("GET", "/readyz")
    assert (status, body) == (503, {"status": "draining"})
    async with api.client.get("/ws", headers={"Upgrade": "websocket"}) as refused:
        assert refused.status == 503 and refused.headers["Retry-After"] == "1"
        assert (await refused.json())["error"]["code"] == "unavailable"
    async with api.client.get("/api/me", headers={"Authorization": f"Bearer {alice}"}) as me:
        assert me.status == 200  # requests are still answered, on a closing connection
        assert me.headers["Connection"] == "close"
    ack = await client.request({"type": "typing", "room_id": 999})
    assert ack["type"] == "error"  # the open socket still works until the drain closes it
    samples = await scrape(api.client)
    assert samples[("chatd_draining",)] == 1
    await client.close()
