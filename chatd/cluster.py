"""`chatd cluster` (make cluster N=3): several `chatd serve` processes on one PostgreSQL and one
Redis (the embedded ones unless DATABASE_URL / REDIS_URL are set), behind nginx when it is
installed, until Ctrl-C or SIGTERM. Their logs go to files; the terminal gets the URL."""

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from chatd.config import Settings
from chatd.infrastructure.db import migrate
from chatd.infrastructure.embedded import embedded_services
from chatd.nginx import Nginx, find_nginx

log = logging.getLogger("chatd")

START_WAIT = 30.0


class Stop(Exception):
    """SIGTERM: leave the wait loop as Ctrl-C does."""


def run_cluster(settings: Settings, *, workers: int) -> int:
    if workers < 1:
        log.error("--workers must be 1 or more")
        return 2
    signal.signal(signal.SIGTERM, stop_on_term)  # from the start: nothing may be left behind
    try:
        return supervise(settings, workers=workers)
    except Stop:  # before anything was started
        return 0


def stop_on_term(signum: int, frame: object) -> None:
    raise Stop


def supervise(settings: Settings, *, workers: int) -> int:
    with embedded_services(settings) as settings:
        asyncio.run(migrate(settings.database_url, settings.sql_dir))
        run_dir = settings.data_dir / "cluster"
        run_dir.mkdir(parents=True, exist_ok=True)
        ports = [settings.port + n for n in range(1, workers + 1)]
        processes: list[subprocess.Popen] = []
        nginx = None
        try:
            start_processes(settings, ports, run_dir, processes)
            if find_nginx():
                nginx = cluster_nginx(settings, ports, run_dir).start()
            announce(nginx, ports, run_dir)
            wait_for_signal(processes)
        except (KeyboardInterrupt, Stop):
            log.info("stopping the cluster")
        finally:
            # The processes first (their sockets get 1001 through nginx), then nginx.
            stop_processes(processes, settings.shutdown_timeout + 5)
            if nginx is not None:
                nginx.stop()
    return 0


def start_processes(
    settings: Settings, ports: list[int], run_dir: Path, processes: list[subprocess.Popen]
) -> None:
    trusted = [*(str(network) for network in settings.trusted_proxies), "127.0.0.1/32"]
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "CHATD_JWT_SECRET": settings.jwt_secret or "",
        "CHATD_TRUSTED_PROXIES": ",".join(trusted),  # nginx, on this machine
    }
    for port in ports:
        command = [sys.executable, "-m", "chatd", "serve", "--no-migrate", "--port", str(port)]
        with (run_dir / f"serve-{port}.log").open("ab") as out:
            # A session of its own: Ctrl-C reaches this supervisor, which stops them in order.
            process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        processes.append(process)
    for port, process in zip(ports, processes, strict=True):
        wait_until_healthy(f"http://127.0.0.1:{port}", process)


def stop_processes(processes: list[subprocess.Popen], wait: float) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cluster_nginx(settings: Settings, ports: list[int], run_dir: Path) -> Nginx:
    upstreams = [f"127.0.0.1:{port}" for port in ports]
    template = settings.deploy_dir / "nginx.conf"
    return Nginx(run_dir / "nginx", template, port=settings.port, upstreams=upstreams)


def wait_until_healthy(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"a chatd serve process exited at start ({url}); see its log")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/healthz", timeout=1):
            return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {START_WAIT}s")


def announce(nginx: Nginx | None, ports: list[int], run_dir: Path) -> None:
    log.info("%d chatd processes on ports %s; logs in %s", len(ports), ports, run_dir)
    if nginx is None:
        log.info("nginx is not installed: each process serves on its own port")
        for port in ports:
            log.info("open http://127.0.0.1:%s/", port)
    else:
        log.info("open %s/ (nginx, in front of all %d); Ctrl-C stops", nginx.url, len(ports))


def wait_for_signal(processes: list[subprocess.Popen]) -> None:
    reported: set[int] = set()
    while True:
        for process in processes:
            if process.poll() is not None and process.pid not in reported:
                reported.add(process.pid)
                log.warning("process %s exited with %s", process.pid, process.returncode)
        time.sleep(0.5)
