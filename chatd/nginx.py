"""nginx in front of local chatd processes, for `chatd cluster` and the tests: the checked-in
deploy/nginx.conf with its listen address and upstream ports filled in, run in the foreground
from a directory of its own (never the system's nginx service)."""

import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

VARIABLE = re.compile(r"\$\{(CHATD_[A-Z_]+)\}")
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
START_WAIT = 10.0

MAIN_CONFIG = """# Written by chatd/nginx.py: nginx in the foreground for local chatd processes.
daemon off;
worker_processes 1;
pid {run}/nginx.pid;
{user}
events {{
    worker_connections 1024;
}}
http {{
    default_type application/octet-stream;
{temp_paths}
    include {run}/chatd.conf;
}}
"""


def find_nginx() -> str | None:
    """Debian puts nginx in /usr/sbin, which is not on every user's PATH."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def render(template: str, *, listen: str, upstreams: list[str]) -> str:
    """deploy/nginx.conf with its two blanks filled: where to listen, which processes."""
    values = {
        "CHATD_NGINX_LISTEN": listen,
        "CHATD_UPSTREAMS": " ".join(f"server {address};" for address in upstreams),
    }
    return VARIABLE.sub(lambda match: values[match.group(1)], template)


class Nginx:
    def __init__(self, run_dir: Path, template: Path, *, port: int, upstreams: list[str]) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.run_dir = run_dir
        self.access_log = run_dir / "access.log"
        self.error_log = run_dir / "error.log"
        self._site = render(
            template.read_text(encoding="utf-8"), listen=f"127.0.0.1:{port}", upstreams=upstreams
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> "Nginx":
        executable = find_nginx()
        if executable is None:
            raise FileNotFoundError("nginx is not installed (Debian: apt-get install nginx)")
        self._write_config()
        command = [executable, "-p", str(self.run_dir), "-c", str(self.run_dir / "nginx.conf")]
        command += ["-e", str(self.error_log)]
        with self.access_log.open("ab") as out:
            # A session of its own: a Ctrl-C meant for chatd does not stop nginx before it.
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.errors()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"nginx did not listen within {START_WAIT}s: {self.errors()}")

    def stop(self) -> int | None:
        """Graceful (SIGQUIT) stop, then a hard one if it lingers."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def errors(self) -> str:
        if not self.error_log.exists():
            return ""
        return self.error_log.read_text(errors="replace")[-2000:]

    def _write_config(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        temp = self.run_dir / "temp"
        for name in TEMP_DIRS:
            (temp / name).mkdir(parents=True, exist_ok=True)
        user = ""
        if os.geteuid() == 0:
            # Run by root, nginx's workers become `nobody`: they must reach the temp directories.
            nobody = pwd.getpwnam("nobody")
            user = f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};"
            self.run_dir.chmod(0o711)
            temp.chmod(0o711)
            for name in TEMP_DIRS:
                os.chown(temp / name, nobody.pw_uid, nobody.pw_gid)
        temp_paths = "\n".join(f"    {name}_temp_path {temp / name};" for name in TEMP_DIRS)
        main = MAIN_CONFIG.format(run=self.run_dir, user=user, temp_paths=temp_paths)
        (self.run_dir / "nginx.conf").write_text(main, encoding="utf-8")
        (self.run_dir / "chatd.conf").write_text(self._site, encoding="utf-8")
