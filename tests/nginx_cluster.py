"""Three real `chatd serve` processes behind a real nginx running the checked-in
deploy/nginx.conf (only its ports filled in), and clients that reconnect through it."""

import asyncio
import contextlib
import itertools
from pathlib import Path

import aiohttp
import pytest

from chatd.config import Settings
from chatd.nginx import Nginx, find_nginx
from tests.support import Api, ServerProcess, free_port
from tests.wsclient import WsClient

PROCESSES = 3
INSTANCE = "X-Chatd-Instance"


class NginxCluster:
    def __init__(
        self, servers: list[ServerProcess], nginx: Nginx, session, handshakes: list[str]
    ) -> None:
        self.servers, self.nginx, self.session = servers, nginx, session
        self.http = Api(session, base_url=nginx.url)
        self.handshakes = handshakes  # X-Chatd-Instance of each /ws handshake, in order
        self._names = itertools.count(1)
        self._connecting = asyncio.Lock()  # one handshake at a time: handshakes[-1] is ours
        self.clients: list[WsClient] = []
        self.tasks: list[asyncio.Task] = []

    def spawn(self, coroutine) -> asyncio.Task:
        """A task of the test, cancelled when the cluster stops if it still runs."""
        self.tasks.append(asyncio.create_task(coroutine))
        return self.tasks[-1]

    async def users(self, count: int, room_id: int | None = None) -> list[str]:
        tokens = []
        for _ in range(count):
            token = await self.http.user_token(f"user{next(self._names)}")
            if room_id is not None:
                await self.http.join(token, room_id)
            tokens.append(token)
        return tokens

    async def connect(self, token: str, resume: dict | None = None) -> tuple[WsClient, str]:
        """A socket through nginx, and which process it landed on."""
        async with self._connecting:
            client = await WsClient.connect(
                self.nginx.url, token, resume=resume, session=self.session
            )
            self.clients.append(client)
            return client, self.handshakes[-1]

    async def instance_of(self, server: ServerProcess) -> str:
        async with self.session.get(f"{server.url}/healthz") as response:
            return response.headers[INSTANCE]


class Reader:
    """A client through nginx that collects a room's messages and, when its socket ends,
    reconnects through nginx with `resume` from the last seq it has."""

    def __init__(self, cluster: NginxCluster, token: str, room_id: int, *, after: int) -> None:
        self.cluster, self.token, self.room_id = cluster, token, room_id
        self.after = after  # the last seq it had before it started reading
        self.seqs: list[int] = []
        self.instances: list[str] = []
        self.close_codes: list[int | None] = []
        self.connected = asyncio.Event()

    async def run(self, last_seq: int) -> None:
        while self.last < last_seq:
            try:
                client, instance = await self.cluster.connect(self.token, {self.room_id: self.last})
            except (aiohttp.ClientError, ConnectionError):
                await asyncio.sleep(0.2)  # no process would take the socket: try again
                continue
            self.instances.append(instance)
            self.connected.set()
            try:
                await self._collect(client, last_seq)
            except ConnectionError:
                self.close_codes.append(client.ws.close_code)

    @property
    def last(self) -> int:
        return self.seqs[-1] if self.seqs else self.after

    async def _collect(self, client: WsClient, last_seq: int) -> None:
        while self.last < last_seq:
            frame = await client.recv(60)
            is_message = frame["type"] in {"new_message", "system_message"}
            if is_message and frame["message"]["room_id"] == self.room_id:
                self.seqs.append(frame["message"]["seq"])


async def post_all(http: Api, token: str, room_id: int, count: int, tag: str) -> None:
    """Post `count` messages through nginx; a post that meets a dying process is sent again with
    the same client_id, so it is stored once whatever happened to the first try."""
    for n in range(count):
        body = {"body": f"{tag}-{n}", "client_id": f"{tag}-{n}"}
        for _ in range(20):
            with contextlib.suppress(aiohttp.ClientError):
                status, _ = await http.call(
                    "POST", f"/api/rooms/{room_id}/messages", token=token, json=body
                )
                if status in {200, 201}:
                    break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"{tag}-{n} could not be posted")


@contextlib.asynccontextmanager
async def running_nginx_cluster(settings: Settings, run_dir: Path, **env: str):
    if find_nginx() is None:
        pytest.fail("nginx is missing: run .ci/ensure-nginx (Debian's package)")
    env = {"CHATD_MESSAGE_RATE": "0", "CHATD_TRUSTED_PROXIES": "127.0.0.1", **env}
    servers = [ServerProcess(settings, **env) for _ in range(PROCESSES)]
    upstreams = [f"127.0.0.1:{server.port}" for server in servers]
    nginx = Nginx(
        run_dir, settings.deploy_dir / "nginx.conf", port=free_port(), upstreams=upstreams
    )
    try:
        for server in servers:
            await server.start()
        await asyncio.to_thread(nginx.start)
        handshakes: list[str] = []

        async def on_request_end(session, context, params) -> None:
            if params.url.path == "/ws" and INSTANCE in params.response.headers:
                handshakes.append(params.response.headers[INSTANCE])

        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(on_request_end)
        async with aiohttp.ClientSession(trace_configs=[trace]) as session:
            cluster = NginxCluster(servers, nginx, session, handshakes)
            try:
                yield cluster
            finally:
                for task in cluster.tasks:
                    task.cancel()
                await asyncio.gather(*cluster.tasks, return_exceptions=True)
                for client in cluster.clients:
                    await client.ws.close()
    finally:
        await asyncio.to_thread(nginx.stop)
        for server in servers:
            server.stop()


async def wait_for(condition, within: float = 30.0) -> None:
    async with asyncio.timeout(within):
        for _ in itertools.count():
            if condition():
                return
            await asyncio.sleep(0.02)
