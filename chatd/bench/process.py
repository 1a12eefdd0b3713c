"""A server under test as a fresh subprocess, pinned to CPU 0 when taskset is there."""

import asyncio
import contextlib
import shutil
import signal
import socket
import time
from pathlib import Path

import aiohttp

from chatd.bench import procstat

SERVER_CPU = 0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pinned(argv: list[str]) -> list[str]:
    if shutil.which("taskset") and procstat.two_cpus():
        return ["taskset", "-c", str(SERVER_CPU), *argv]
    return argv


class ServerProcess:
    def __init__(self, argv: list[str], *, env: dict[str, str], log: Path, cwd: Path) -> None:
        self.argv, self.env, self.log, self.cwd = argv, env, log, cwd
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid  # taskset execs the server: same pid

    async def start(self, ready_url: str, *, want_ok: bool) -> None:
        """Start it and wait until `ready_url` answers (with 200 when `want_ok`)."""
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *pinned(self.argv), env=self.env, cwd=self.cwd, stdout=log, stderr=log
            )
        deadline = time.monotonic() + START_TIMEOUT
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    break
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(ready_url) as response:
                        if response.status == 200 or not want_ok:
                            return
                await asyncio.sleep(0.1)
        await self.stop()
        raise RuntimeError(f"{self.argv} did not start:\n{self.tail()}")

    async def stop(self) -> int | None:
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()

    def tail(self) -> str:
        return tail(self.log)


def tail(log: Path, lines: int = 30) -> str:
    """The end of a log, for an error message (the log goes with the run's temporary files)."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
