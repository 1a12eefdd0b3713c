"""CPU time and memory of processes, read from /proc (Linux only)."""

import contextlib
import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (field 3, the state, is [0])."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process, all its threads; 0.0 once it is gone."""
    fields = _fields(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def command(pid: int) -> str:
    """The process's name ("" when there is no such process on this host)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def parent_of(pid: int) -> int | None:
    fields = _fields(pid)
    return None if fields is None else int(fields[1])


def descendants(pid: int) -> list[int]:
    """The live children of a process, their children, and so on."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = parent_of(int(entry.name))
            if parent is not None:
                parents.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def tree_cpu_seconds(pid: int) -> float:
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in descendants(pid))


def snapshot() -> dict[int, tuple[int, float]]:
    """Every process on the host: pid -> (parent pid, CPU seconds). Reaped children are left
    out: their whole life would land in the parent at once. So a process that lives and dies
    between two snapshots goes unseen."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _fields(int(entry.name))) is not None:
            ticks = int(fields[11]) + int(fields[12])  # utime stime
            found[int(entry.name)] = (int(fields[1]), ticks / CLOCK_TICKS)
    return found


def family(processes: dict[int, tuple[int, float]], root: int) -> set[int]:
    """A process and all its descendants, within a snapshot."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise ProcessLookupError(pid)


def cpu_ticks(cpu: int) -> tuple[int, int]:
    """(busy, total) jiffies of one CPU since boot, from /proc/stat."""
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name == f"cpu{cpu}":
            ticks = [int(v) for v in values]
            idle = ticks[3] + ticks[4]  # idle + iowait
            return sum(ticks[:8]) - idle, sum(ticks[:8])
    return 0, 0


def pin(pid: int, cpu: int) -> None:
    """Move every thread of a process to one CPU (children forked later inherit it); a process
    or thread that has ended meanwhile is left alone."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return
    for task in tasks:
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(task.name), {cpu})


def two_cpus() -> bool:
    """Placement needs CPU 0 for the server and CPU 1 for the load."""
    return {0, 1} <= os.sched_getaffinity(0)


def cpu_count() -> int:
    return os.cpu_count() or 1
