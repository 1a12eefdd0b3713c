"""`chatd serve` as `make run` starts it (embedded PostgreSQL and Redis): a start-up that fits on
a screen, the embedded servers' own logs in files, and Ctrl-C ending it with exit code 0."""

import asyncio
import os
import signal
import subprocess
import sys

import aiohttp
import pytest

from tests.support import free_port

pytestmark = pytest.mark.slow

SCREEN = 12  # lines


async def test_make_run_start_up_is_short_and_ctrl_c_exits_0(tmp_path):
    data_dir, port = tmp_path / "data", free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env |= {"CHATD_DATA_DIR": str(data_dir), "CHATD_PORT": str(port), "CHATD_BCRYPT_ROUNDS": "4"}
    env.pop("CHATD_JWT_SECRET", None)
    output = tmp_path / "output.txt"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "chatd", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        await wait_until_serving(f"http://127.0.0.1:{port}", process, output)
        start_up = output.read_text()
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert process.wait(30) == 0, output.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    lines = start_up.splitlines()
    [serving] = [n for n, line in enumerate(lines) if "serving on" in line]
    assert f"serving on http://127.0.0.1:{port}" in lines[serving]
    assert serving < SCREEN, start_up
    assert all("aiohttp.access" in line for line in lines[serving + 1 :])  # our /healthz
    assert str(data_dir) in start_up
    assert sum("embedded" in line for line in lines) == 2, start_up  # one line per server
    assert "initdb" not in start_up and "pg_ctl" not in start_up and "Warning" not in start_up
    everything = output.read_text()
    assert "Traceback" not in everything and len(everything.splitlines()) <= SCREEN + 6
    assert (data_dir / "embedded.log").read_text().count("pgserver") > 0
    assert (data_dir / "pg" / "log").exists() and (data_dir / "redis" / "redis.log").exists()


async def wait_until_serving(url: str, process: subprocess.Popen, output) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if process.poll() is not None:
                raise AssertionError(f"chatd serve exited: {output.read_text()}")
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"chatd serve did not answer: {output.read_text()}")
