"""`chatd cluster` (make cluster): N processes behind nginx on one URL, stopped by one signal."""

import asyncio
import signal
import subprocess
import sys

import aiohttp
import pytest

from chatd.nginx import find_nginx
from tests.fake_streams import until
from tests.support import free_port, service_env

pytestmark = pytest.mark.slow


async def test_cluster_serves_one_url_from_several_processes_and_stops_cleanly(settings):
    if find_nginx() is None:
        pytest.fail("nginx is missing: run .ci/ensure-nginx (Debian's package)")
    port = free_port()  # nginx; the processes take the next two
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    output = settings.data_dir / "cluster-output.txt"
    command = [sys.executable, "-m", "chatd", "cluster", "--workers", "2", "--port", str(port)]
    with output.open("wb") as out:
        cluster = subprocess.Popen(
            command, env=service_env(settings), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        url = f"http://127.0.0.1:{port}"
        instances = await instances_behind(url, cluster, output)
        assert len(instances) == 2
        # nginx may answer before the line is written
        await until(lambda: f"open {url}/" in output.read_text(), within=30)
        cluster.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(cluster.wait, 60) == 0, output.read_text()
    finally:
        if cluster.poll() is None:
            cluster.kill()
            cluster.wait()
    for neighbour in (port, port + 1, port + 2):  # nginx and both processes are gone
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", neighbour)


async def instances_behind(url: str, cluster: subprocess.Popen, output) -> set[str]:
    """Once the cluster answers: the processes that answer through nginx."""
    async with aiohttp.ClientSession() as session, asyncio.timeout(60):
        while True:
            if cluster.poll() is not None:
                raise AssertionError(f"chatd cluster exited: {output.read_text()}")
            try:
                seen = set()
                for _ in range(6):
                    async with session.get(f"{url}/readyz") as response:
                        assert response.status == 200
                        seen.add(response.headers["X-Chatd-Instance"])
                return seen
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.2)
