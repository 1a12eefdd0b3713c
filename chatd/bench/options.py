"""What one benchmark run does: workloads, step ladder, rounds, services, output."""

from dataclasses import dataclass, field, replace
from pathlib import Path

CONTENDERS = (
    "ceiling",
    "peer",
    "chatd",
)  # the ceiling first in every round: the others need its limit


@dataclass(frozen=True, slots=True)
class Workload:
    rooms: int
    members: int  # sockets per room; senders are members too and get their own messages
    senders: int  # in total, spread round-robin over the rooms

    @property
    def name(self) -> str:
        return f"{self.rooms}x{self.members}"

    @classmethod
    def parse(cls, text: str) -> "Workload":
        """`ROOMSxMEMBERS[:SENDERS]`, e.g. `1x200:4`; senders default to one per room."""
        shape, _, senders = text.partition(":")
        rooms, _, members = shape.lower().partition("x")
        workload = cls(int(rooms), int(members), int(senders or rooms))
        if min(workload.rooms, workload.members, workload.senders) < 1:
            raise ValueError(f"bad workload {text!r}")
        if workload.senders > workload.rooms * workload.members:
            raise ValueError(f"more senders than sockets in {text!r}")
        return workload


@dataclass(frozen=True, slots=True)
class Options:
    workloads: tuple[Workload, ...] = (Workload(1, 200, 4), Workload(20, 10, 20))
    contenders: tuple[str, ...] = CONTENDERS
    rounds: int = 3
    step_seconds: float = 2.0
    drain_seconds: float = 3.0  # how long a step waits for its last deliveries
    settle_seconds: float = (
        15.0  # after a failed step: wait (at most this) for the backlog to clear
    )
    warmup_seconds: float = 0.5
    start_rate: float = 5_000.0  # deliveries/s of the first step
    factor: float = 2.0  # each step of the ladder offers this much more
    max_steps: int = 8  # ladder steps before refining
    refine: int = 2  # bisections between the last passing and the first failing step
    fractions: tuple[float, ...] = (0.10, 0.25, 0.50)  # of the ceiling's limit, for latency
    memory_counts: tuple[int, ...] = (0, 500, 1000)  # idle sockets; () skips the memory check
    memory_settle_seconds: float = 1.0  # before each RSS reading
    procs: int = 2  # load generator processes
    uvloop: bool = False  # run every server on uvloop (chatd with CHATD_UVLOOP=1)
    body_bytes: int = 200
    p99_limit_ms: float = 250.0
    lag_limit_ms: float = 100.0  # a sender this late marks the step generator-limited
    max_other_cpu: float = 0.2  # cores used by other processes past which a step is disturbed
    patience_seconds: float = 300.0  # in all, for waiting out and repeating disturbed steps
    database_url: str | None = None  # None: an embedded PostgreSQL in a temporary directory
    redis_url: str | None = None  # None: an embedded Redis in a temporary directory
    chatd_source: Path | None = None  # run chatd from this source tree (default: as installed)
    out: Path | None = None
    quick: bool = False
    extra: dict[str, str] = field(default_factory=dict)  # shown in the report (e.g. the command)

    def with_changes(self, **changes: object) -> "Options":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def quick_options() -> Options:
    """Each workload small and short: the suite runs this so the benchmark never rots."""
    return Options(
        workloads=(Workload(1, 20, 2), Workload(4, 5, 4)),
        rounds=1,
        step_seconds=0.7,
        drain_seconds=3.0,
        settle_seconds=5.0,
        warmup_seconds=0.3,
        start_rate=200.0,
        factor=2.0,
        max_steps=2,
        refine=0,
        fractions=(0.5,),
        memory_counts=(0, 25, 50),
        memory_settle_seconds=0.3,
        procs=1,
        patience_seconds=0.0,  # the suite checks behaviour, not speed: no waiting
        quick=True,
    )
