"""Memory per idle socket: the slope of the server's RSS against the number of open,
authenticated (chatd) or joined (ceiling, peer) sockets that send nothing."""

import asyncio
from dataclasses import dataclass

from chatd.bench import procstat
from chatd.bench.rawws import RawWebSocket
from chatd.bench.wire import WIRES, ConnSpec

OPENING_AT_ONCE = 32


@dataclass(frozen=True, slots=True)
class MemoryResult:
    points: list[tuple[int, int]]  # (sockets, RSS bytes)
    bytes_per_socket: float


def slope(points: list[tuple[int, int]]) -> float:
    """Least-squares slope of y against x."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


async def measure_memory(
    contender: str,
    base_url: str,
    pid: int,
    conns: list[ConnSpec],
    counts: tuple[int, ...],
    settle_seconds: float,
) -> MemoryResult:
    """Open sockets up to each count in turn (each as a member of the workload's rooms, none
    sending), and read the server's RSS once it has settled."""
    wire = WIRES[contender]
    gate = asyncio.Semaphore(OPENING_AT_ONCE)
    sockets: list[RawWebSocket] = []

    async def one(spec: ConnSpec) -> None:
        async with gate:
            ws = await RawWebSocket.connect(wire.url(base_url, spec))
            sockets.append(ws)
            await wire.open(ws, ConnSpec(room=spec.room, token=spec.token))
            ws.sink = wire.answer  # answer keepalives, drop the rest (presence, pings)

    points = []
    try:
        for count in sorted(counts):
            specs = [conns[i % len(conns)] for i in range(len(sockets), count)]
            await asyncio.gather(*(one(spec) for spec in specs))
            await asyncio.sleep(settle_seconds)
            points.append((len(sockets), procstat.rss_bytes(pid)))
    finally:
        for ws in sockets:
            ws.close()
        await asyncio.sleep(0.2)  # let the close frames go out
    return MemoryResult(points=points, bytes_per_socket=slope(points))
