"""schemathesis (its `st run` CLI) against a live `chatd serve`, driven by docs/openapi.yaml.

Signed in as a user who owns a room with history (and is not in a room of someone else's),
schemathesis generates valid and invalid requests for every operation, and checks that no
answer is a 5xx, that each status, content type and body is one the spec describes, and that a
method a route does not take gets 405 with `Allow`. The
rate limits are off, so that 429s do not drown the run (they have tests of their own)."""

import asyncio
import json
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support import Api, ServerProcess

pytestmark = pytest.mark.slow

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "unsupported_method",  # a method a route does not take: 405 with Allow
]
MAX_EXAMPLES = 50  # per operation: the whole run takes well under a minute
SEED = 20261129  # fixed, so a failure is replayed by the next run
NO_LIMITS = {
    "CHATD_MESSAGE_RATE": "0",
    "CHATD_LOGIN_RATE": "0",
    "CHATD_ROOM_RATE": "0",
    "CHATD_JOIN_RATE": "0",
}


async def sign_in_with_rooms(url: str) -> tuple[str, dict[str, list[int]]]:
    """The fuzzer's access token, and real ids to fuzz with: rooms (its own, with messages so
    history pages are not empty, and a room it is not a member of: 403 paths), users (itself
    and the stranger, a member of the fuzzer's room) and seqs (three posts and a join)."""
    async with aiohttp.ClientSession() as session:
        api = Api(session, base_url=url)
        fuzzer = await api.register("fuzzer")
        token = (await api.login("fuzzer"))["access_token"]
        own = await api.create_room(token, "fuzzed")
        seqs = [(await api.post(token, own, f"history {n}"))["seq"] for n in range(3)]
        stranger = await api.register("stranger")
        stranger_token = (await api.login("stranger"))["access_token"]
        other = await api.create_room(stranger_token, "not yours")
        await api.join(stranger_token, own)  # a system message: the seq after the posts
    ids = {"rooms": [own, other], "users": [fuzzer["id"], stranger["id"]]}
    return token, {**ids, "seqs": [*seqs, seqs[-1] + 1]}


def config(*, url: str, token: str, ids: dict[str, list[int]], report: Path) -> str:
    """schemathesis.toml: each path id (room_id, user_id, seq) is a real one half of the time,
    anything else otherwise."""
    checks = "".join(f"{check}.enabled = true\n" for check in CHECKS)
    return f"""
base-url = "{url}"
seed = {SEED}
workers = 1
reports.json.enabled = true
reports.json.path = "{report}"

[auth.openapi.bearerAuth]
bearer = "{token}"

[generation]
max-examples = {MAX_EXAMPLES}

[checks]
enabled = false
{checks}
[dictionaries.rooms]
values = {json.dumps(ids["rooms"])}

[dictionaries.users]
values = {json.dumps(ids["users"])}

[dictionaries.seqs]
values = {json.dumps(ids["seqs"])}

[parameters]
"path.room_id" = {{ dictionary = "rooms", probability = 0.5 }}
"path.user_id" = {{ dictionary = "users", probability = 0.5 }}
"path.seq" = {{ dictionary = "seqs", probability = 0.5 }}

[phases.stateful]
enabled = false
"""


async def test_schemathesis_finds_no_failure(settings, tmp_path, figure):
    server = await ServerProcess(settings, **NO_LIMITS).start()
    try:
        token, ids = await sign_in_with_rooms(server.url)
        report = tmp_path / "report.json"
        config_file = tmp_path / "schemathesis.toml"
        toml = config(url=server.url, token=token, ids=ids, report=report)
        config_file.write_text(toml)
        st = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config_file),
            "run",
            str(SPEC),
            "--no-color",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,
        )
        try:
            output, _ = await asyncio.wait_for(st.communicate(), timeout=400)
        except TimeoutError:
            st.kill()
            await st.wait()
            raise
    finally:
        server.stop()
    text = output.decode(errors="replace")
    assert report.exists(), text[-6000:]
    result = json.loads(report.read_text())
    cases = result["test_cases"]
    print(text[-1500:])
    figure(f"failures {cases['with_failures']} of {cases['generated']} generated cases")
    assert result["operations"]["tested"] == result["operations"]["total"], text[-6000:]
    assert cases["generated"] >= 10 * MAX_EXAMPLES, text[-6000:]
    assert not result["failures"] and not result["errors"], text[-12000:]
    assert cases["with_failures"] == 0 and st.returncode == 0, text[-12000:]
