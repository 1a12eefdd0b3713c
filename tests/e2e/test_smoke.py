async def test_health_and_me(api):
    status, body = await api.call("GET", "/healthz")
    assert (status, body) == (200, {"status": "ok"})
    token = await api.user_token("alice")
    status, body = await api.call("GET", "/api/me", token=token)
    assert status == 200 and body["username"] == "alice"
