"""What the abuse suites read off a real `chatd serve` process: its memory, its error lines."""

import json
from pathlib import Path

from tests.support import ServerProcess


def rss_mb(server: ServerProcess) -> float:
    """The process's resident set (VmRSS of /proc/<pid>/status), in MB."""
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    [line] = [line for line in status.splitlines() if line.startswith("VmRSS:")]
    return int(line.split()[1]) / 1024


def error_lines(server: ServerProcess) -> list[str]:
    """Lines of a CHATD_LOG_FORMAT=json server at level error or above, or with a traceback:
    an exception nothing handled, or one chatd only logged."""
    found = []
    for line in server.log_path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            if "Traceback" in line or "Error" in line:
                found.append(line)  # not a log line of ours: Python itself printing a crash
            continue
        if entry.get("level") in {"error", "critical"} or "exc" in entry:
            found.append(line)
    return found
