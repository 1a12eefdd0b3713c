"""Redis servers from Debian's redis-server (7.x) on free loopback ports, for the tests and the
benchmark: a 3-master Redis Cluster started in a temp dir, `redis-cli --cluster create`, waited on
until every node says cluster_state:ok, and killed at the end. A master can be SIGKILLed and
restarted on its port with its nodes.conf, so it rejoins as the same master (empty: no persistence).
A plain single redis-server too (`single_redis`)."""

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REDIS_SERVER = Path("/usr/bin/redis-server")
REDIS_CLI = Path("/usr/bin/redis-cli")
READY_WITHIN = 30.0
CREATE_OPTIONS = ("--cluster-replicas", "0", "--cluster-yes")


def _free_port() -> int:
    """A free loopback port whose cluster bus port (+10000, so at most 55535) is free too."""
    while True:
        port = random.randrange(20000, 55536)
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port


def cluster_binaries_missing() -> str | None:
    """Why a cluster cannot be started here, or None."""
    for binary in (REDIS_SERVER, REDIS_CLI):
        if not os.access(binary, os.X_OK):
            return f"{binary} not found (Debian's redis-server 7 is needed for Redis Cluster)"
    return None


class RedisClusterNodes:
    def __init__(self, workdir: Path, count: int = 3) -> None:
        self.workdir = workdir
        self.ports = [_free_port() for _ in range(count)]
        self.processes: dict[int, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        """A node to start from: any node of the cluster will do."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self, port: int) -> None:
        directory = self.workdir / str(port)
        directory.mkdir(exist_ok=True)
        command = [
            str(REDIS_SERVER),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(directory),
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            # A shard that is down leaves the other shards serving (there are no replicas here).
            "--cluster-require-full-coverage", "no",
            "--cluster-node-timeout", "2000",
            "--appendonly", "no",
            "--save", "",
            "--logfile", "redis.log",
        ]  # fmt: skip
        self.processes[port] = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        self._wait_for(lambda: self._pong(port), f"redis-server on {port}")

    def _pong(self, port: int) -> bool:
        if self.processes[port].poll() is not None:
            log = self.workdir / str(port) / "redis.log"
            raise RuntimeError(f"redis-server on {port} exited: {log.read_text()[-2000:]}")
        return self.cli(port, "PING") == "PONG"

    def create(self) -> None:
        for port in self.ports:
            self.start(port)
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(
            [str(REDIS_CLI), "--cluster", "create", *nodes, *CREATE_OPTIONS],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.wait_ok()

    def wait_ok(self, ports: list[int] | None = None) -> None:
        for port in ports or self.ports:
            self._wait_for(
                lambda port=port: "cluster_state:ok" in self.cli(port, "CLUSTER", "INFO"),
                f"cluster_state:ok on {port}",
            )

    def kill(self, port: int) -> None:
        process = self.processes.pop(port)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def restart(self, port: int) -> None:
        """Start a killed master again on its port and nodes.conf: it rejoins with its slots."""
        self.start(port)

    def move_slot(self, slot: int, source: int, target: int) -> None:
        """Give an empty slot from one master to another (every node told at once)."""
        target_id = self.cli(target, "CLUSTER", "MYID")
        source_id = self.cli(source, "CLUSTER", "MYID")
        self.cli(target, "CLUSTER", "SETSLOT", str(slot), "IMPORTING", source_id)
        self.cli(source, "CLUSTER", "SETSLOT", str(slot), "MIGRATING", target_id)
        for port in (target, source, *self.ports):
            self.cli(port, "CLUSTER", "SETSLOT", str(slot), "NODE", target_id)

    def cli(self, port: int, *args: str) -> str:
        return self.cli_at(port, *args)

    @staticmethod
    def cli_at(port: int, *args: str) -> str:
        result = subprocess.run(
            [str(REDIS_CLI), "-p", str(port), *args], capture_output=True, text=True, timeout=10
        )
        return result.stdout.strip()

    def stop(self) -> None:
        for port in list(self.processes):
            self.kill(port)

    @staticmethod
    def _wait_for(ready, what: str) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except (OSError, subprocess.SubprocessError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}")


@contextmanager
def redis_cluster(count: int = 3) -> Iterator[RedisClusterNodes]:
    workdir = Path(tempfile.mkdtemp(prefix="chatd-redis-cluster-"))
    nodes = RedisClusterNodes(workdir, count)
    try:
        nodes.create()
        yield nodes
    finally:
        nodes.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def single_redis() -> Iterator[tuple[str, int]]:
    """One plain (non-cluster) redis-server of the same binary: its URL and pid."""
    workdir = Path(tempfile.mkdtemp(prefix="chatd-redis-single-"))
    port = _free_port()
    command = [str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir)]
    command += ["--appendonly", "no", "--save", "", "--logfile", "redis.log"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        RedisClusterNodes._wait_for(
            lambda: RedisClusterNodes.cli_at(port, "PING") == "PONG", f"redis-server on {port}"
        )
        yield f"redis://127.0.0.1:{port}/0", process.pid
    finally:
        process.kill()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
