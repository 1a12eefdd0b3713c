"""One measured step, and the two ways of choosing steps: the step-up search for the highest
sustained rate, and fixed loads at fractions of the ceiling's limit."""

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from chatd.bench.generator import LoadGenerator
from chatd.bench.options import Options, Workload
from chatd.bench.probe import Probe


@dataclass(frozen=True, slots=True)
class StepResult:
    contender: str
    workload: str
    round: int
    phase: str  # "search" or "fixed"
    load: str  # the fraction of the ceiling's limit, for fixed steps
    offered: float  # deliveries/s offered (messages/s times members per room)
    delivered: float  # deliveries/s received
    sent: int
    expected: int
    received: int
    lost: int
    duplicates: int
    stale: int
    errors: int
    closed: int
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    max_lag_ms: float
    generator_limited: bool
    server_cpu_s: float
    pg_cpu_s: float | None
    redis_cpu_s: float | None
    generator_cpu_s: float
    load_cpu_busy: float
    other_cpu_s: float  # of processes on the host that are not the benchmark's
    disturbed: bool  # they used more than `max_other_cpu` of a core
    passed: bool
    reasons: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


Step = Callable[[float, str, str], Awaitable[StepResult]]


async def measure(
    gen: LoadGenerator, probe: Probe, options: Options, workload: Workload, offered: float
) -> dict:
    """Offer `offered` deliveries/s for one step; the measured fields of a StepResult."""
    before = await probe.sample()
    d = await gen.step(offered / workload.members, options.step_seconds, options.drain_seconds)
    spent = probe.spent(before, await probe.sample())
    ms = {q: d.histogram.get_value_at_percentile(q) / 1000 for q in (50, 99, 99.9)}
    lost = d.expected - d.received
    reasons = [
        reason
        for reason, failed in [
            ("p99", ms[99] > options.p99_limit_ms),
            ("loss", lost > 0),
            ("duplicates", d.duplicates > 0),
            ("generator", d.max_lag_ns / 1e6 > options.lag_limit_ms),
            ("errors", d.errors > 0),
        ]
        if failed
    ]
    return dict(
        offered=offered,
        delivered=d.received / d.seconds,
        sent=d.sent,
        expected=d.expected,
        received=d.received,
        lost=lost,
        duplicates=d.duplicates,
        stale=d.stale,
        errors=d.errors,
        closed=d.closed,
        p50_ms=ms[50],
        p99_ms=ms[99],
        p999_ms=ms[99.9],
        max_ms=d.histogram.get_max_value() / 1000,
        max_lag_ms=d.max_lag_ns / 1e6,
        generator_limited="generator" in reasons,
        server_cpu_s=spent.server,
        pg_cpu_s=spent.pg,
        redis_cpu_s=spent.redis,
        generator_cpu_s=d.cpu_seconds,
        load_cpu_busy=spent.load_busy,
        other_cpu_s=spent.other,
        disturbed=spent.other / spent.seconds > options.max_other_cpu,
        passed=not reasons,
        reasons=reasons,
    )


async def search(step: Step, options: Options) -> list[StepResult]:
    """Multiply the offered rate by `factor` until a step fails, then bisect (geometrically)
    `refine` times between the last passing and the first failing rate."""
    results: list[StepResult] = []
    passing, failing = 0.0, 0.0
    rate = options.start_rate
    for _ in range(options.max_steps):
        results.append(result := await step(rate, "search", ""))
        if not result.passed:
            failing = rate
            break
        passing, rate = rate, rate * options.factor
    for _ in range(options.refine if passing and failing else 0):
        rate = (passing * failing) ** 0.5
        results.append(result := await step(rate, "search", ""))
        passing, failing = (rate, failing) if result.passed else (passing, rate)
    return results


def limit_of(results: list[StepResult]) -> StepResult | None:
    """The passing search step with the highest delivered rate."""
    passed = [r for r in results if r.phase == "search" and r.passed]
    return max(passed, key=lambda r: r.delivered, default=None)
