"""Helpers for tests that talk HTTP to chatd: the in-process test client or a real subprocess."""

import asyncio
import os
import socket
import subprocess
import sys
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from chatd.config import Settings


class Api:
    """REST calls against chatd, for every test that talks HTTP: an in-process app through
    aiohttp's TestClient (`Api(client)`), or a real process (`Api(session, base_url=url)`)."""

    def __init__(self, client: TestClient | aiohttp.ClientSession, base_url: str = "") -> None:
        self.client = client
        self._prefix = base_url  # TestClient takes paths; a plain session takes whole URLs
        self.base_url = base_url or str(client.make_url("")).rstrip("/")

    async def call(
        self, method: str, path: str, *, token: str | None = None, json: Any = None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.client.request(
            method, self._prefix + path, json=json, headers=headers, **kwargs
        ) as response:
            body = await response.json() if response.content_type == "application/json" else None
            return response.status, body

    async def register(self, username: str, password: str = "correct horse") -> dict:
        status, body = await self.call(
            "POST", "/api/auth/register", json={"username": username, "password": password}
        )
        assert status == 201, body
        return body

    async def login(self, username: str, password: str = "correct horse") -> dict:
        status, body = await self.call(
            "POST", "/api/auth/login", json={"username": username, "password": password}
        )
        assert status == 200, body
        return body

    async def user_token(self, username: str) -> str:
        """Register and log in; the access token."""
        await self.register(username)
        return (await self.login(username))["access_token"]

    async def create_room(self, token: str, name: str = "general") -> int:
        status, room = await self.call("POST", "/api/rooms", token=token, json={"name": name})
        assert status == 201, room
        return room["id"]

    async def join(self, token: str, room_id: int) -> None:
        status, body = await self.call("POST", f"/api/rooms/{room_id}/join", token=token)
        assert status == 200, body

    async def post(self, token: str, room_id: int, body: str) -> dict:
        status, message = await self.call(
            "POST", f"/api/rooms/{room_id}/messages", token=token, json={"body": body}
        )
        assert status == 201, message
        return message


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "CHATD_JWT_SECRET": settings.jwt_secret or "",
        "CHATD_BCRYPT_ROUNDS": str(settings.bcrypt_rounds),
        "CHATD_MESSAGE_RATE": str(settings.message_rate),
        "CHATD_LOGIN_RATE": str(settings.login_rate),
        "CHATD_ROOM_RATE": str(settings.room_rate),
        "CHATD_JOIN_RATE": str(settings.join_rate),
        "CHATD_DATA_DIR": str(settings.data_dir),
    }
    env.update(extra)
    return env


class ServerProcess:
    """A real `chatd serve` subprocess on a free loopback port."""

    def __init__(self, settings: Settings, *args: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = [sys.executable, "-m", "chatd", "serve", "--port", str(self.port), *args]
        self._env = service_env(settings, **env)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # A file, not a pipe: a pipe nobody reads would block the server once it fills.
        self.log_path = settings.data_dir / f"serve-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.killed = False

    async def start(self, wait_seconds: float = 30.0) -> "ServerProcess":
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self._command, env=self._env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = asyncio.get_running_loop().time() + wait_seconds
        async with aiohttp.ClientSession() as session:
            while asyncio.get_running_loop().time() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"chatd serve exited: {self.output()}")
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return self
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        self.stop()
        raise TimeoutError(f"chatd serve did not answer within {wait_seconds}s: {self.output()}")

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: the process ends at once, no cleanup code of its own runs."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.killed = True

    def output(self) -> str:
        """The tail of what the process printed."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-4000:]
