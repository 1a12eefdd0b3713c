"""CHATD_LOG_FORMAT=json on a real `chatd serve`: one JSON object a line, each request's lines
with its request id (and user id once known), and no token, password or message body anywhere."""

import json

import aiohttp
import pytest

from tests.support import Api, ServerProcess
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"
WRONG_PASSWORD = "hunter2 is not it"
WS_BODY = "a body only alice and bob should see 7f3a"
REST_BODY = "another private body 91c2"


async def test_json_lines_of_a_login_and_a_message_round_trip(settings):
    server = await ServerProcess(settings, CHATD_LOG_FORMAT="json").start()
    try:
        async with aiohttp.ClientSession() as session:
            secrets = await round_trip(session, Api(session, base_url=server.url), server)
    finally:
        assert server.stop() == 0, server.output()
    output = server.log_path.read_text()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]

    for secret in secrets:
        assert secret not in output
    access = [line for line in lines if line["logger"] == "aiohttp.access"]
    assert access and all(len(line["request_id"]) >= 8 for line in access)
    [login] = [line for line in access if line["request_id"] == "login-trace-1"]
    assert (login["method"], login["path"], login["status"]) == ("POST", "/api/auth/login", 200)
    assert login["client"] == "127.0.0.1" and login["duration_ms"] >= 0
    [me] = [line for line in access if line["path"] == "/api/me"]
    assert me["user_id"] == secrets.user_id
    [socket] = [line for line in access if line["path"] == "/ws"]
    assert socket["status"] == 101
    assert {line["instance"] for line in lines} == {lines[0]["instance"]}


class Secrets(list):
    user_id: int


async def round_trip(session: aiohttp.ClientSession, api: Api, server: ServerProcess) -> Secrets:
    alice = await api.register("alice", PASSWORD)
    await api.register("bob", PASSWORD)
    wrong = {"username": "alice", "password": WRONG_PASSWORD}
    assert (await api.call("POST", "/api/auth/login", json=wrong))[0] == 401
    credentials = {"username": "alice", "password": PASSWORD}
    traced = {"X-Request-Id": "login-trace-1"}
    async with session.post(f"{server.url}/api/auth/login", json=credentials, headers=traced) as r:
        assert r.status == 200 and r.headers["X-Request-Id"] == "login-trace-1"
        pair = await r.json()
    token = pair["access_token"]
    assert (await api.call("GET", "/api/me", token=token))[0] == 200
    bob = (await api.login("bob", PASSWORD))["access_token"]
    room_id = await api.create_room(token)
    await api.join(bob, room_id)

    client = await WsClient.connect(server.url, bob, session=session)
    ack = await client.request({"type": "send_message", "room_id": room_id, "body": WS_BODY})
    assert ack["type"] == "ack"
    await api.post(token, room_id, REST_BODY)
    await client.collect_messages(room_id, lambda got: len(got) == 2)
    await client.close()
    status, refreshed = await api.call(
        "POST", "/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert status == 200

    secrets = Secrets([PASSWORD, WRONG_PASSWORD, WS_BODY, REST_BODY, token, bob])
    secrets += [pair["refresh_token"], refreshed["access_token"], refreshed["refresh_token"]]
    secrets.user_id = alice["id"]
    return secrets
