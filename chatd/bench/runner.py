"""The whole run: every round, workload and contender, each on a fresh server process.

Within a round and workload the contenders go in order (the ceiling first, so the others can
be measured at fractions of its limit): A B C A B C over the rounds.
"""

import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chatd.bench import procstat
from chatd.bench.contenders import Target, launch
from chatd.bench.generator import LoadGenerator
from chatd.bench.memory import measure_memory
from chatd.bench.options import Options, Workload
from chatd.bench.patience import Patience
from chatd.bench.probe import LOAD_CPU, Probe
from chatd.bench.services import Services, pin_embedded
from chatd.bench.steps import StepResult, limit_of, measure, search
from chatd.bench.versions import versions


@dataclass(frozen=True, slots=True)
class Phase:
    """One contender's server under load, in one round and workload."""

    name: str
    workload: Workload
    round: int
    gen: LoadGenerator
    probe: Probe


@dataclass
class Results:
    options: dict
    versions: dict
    steps: list[dict] = field(default_factory=list)
    set_aside: list[dict] = field(default_factory=list)  # disturbed steps that were run again
    memory: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def _describe(r: StepResult) -> str:
    verdict = "ok" if r.passed else "FAIL " + ",".join(r.reasons)
    verdict += f" (disturbed: others used {r.other_cpu_s:.1f} CPU-s)" if r.disturbed else ""
    return (
        f"round {r.round} {r.workload} {r.contender:7} {r.phase:6} {r.load:>4} "
        f"offered {r.offered:9.0f}/s delivered {r.delivered:9.0f}/s "
        f"p50 {r.p50_ms:7.1f} p99 {r.p99_ms:7.1f} ms lost {r.lost} dup {r.duplicates} "
        f"lag {r.max_lag_ms:.0f} ms cpu {r.server_cpu_s:.2f}s  {verdict}"
    )


class Runner:
    def __init__(self, options: Options, services: Services, workdir: Path) -> None:
        self.options, self.services, self.workdir = options, services, workdir
        self.results = Results(options={}, versions={})
        self.patience = Patience(options.patience_seconds, options.max_other_cpu)

    async def run(self) -> Results:
        began = time.monotonic()
        await pin_embedded(self.services)
        self.results.versions = await versions(
            self.services, uvloop=self.options.uvloop, chatd_source=self.options.chatd_source
        )
        self.results.versions["machine"] = f"{platform.machine()}, {procstat.cpu_count()} CPUs"
        for round_no in range(1, self.options.rounds + 1):
            for index, workload in enumerate(self.options.workloads):
                ceiling: StepResult | None = None
                for name in self.options.contenders:
                    steps = await self._phase(name, workload, round_no, ceiling, index == 0)
                    if name == "ceiling":
                        ceiling = limit_of(steps)
        self.results.seconds = time.monotonic() - began
        return self.results

    async def _phase(
        self,
        name: str,
        workload: Workload,
        round_no: int,
        ceiling: StepResult | None,
        with_memory: bool,
    ) -> list[StepResult]:
        """One contender on a fresh server: memory first (when asked), then the load."""
        options = self.options
        launching = launch(
            name,
            workload,
            self.services,
            self.workdir,
            uvloop=options.uvloop,
            chatd_source=options.chatd_source,
        )
        async with launching as target:
            if with_memory and options.memory_counts:
                await self._memory(target, round_no)
            probe = Probe(target.pid, target.pg_url, target.redis_url)
            gen = LoadGenerator(
                name,
                target.base_url,
                target.conns,
                procs=options.procs,
                body_bytes=options.body_bytes,
                cpu=LOAD_CPU if procstat.two_cpus() else None,
            )
            try:
                await probe.open()
                await gen.start()
                return await self._load(Phase(name, workload, round_no, gen, probe), ceiling)
            finally:
                await gen.close()
                await probe.close()

    async def _load(self, phase: Phase, ceiling: StepResult | None) -> list[StepResult]:
        """Warm up, search for the limit, then the fixed loads (fractions of the ceiling's)."""
        options = self.options
        rate = options.start_rate / phase.workload.members
        await phase.gen.step(rate, options.warmup_seconds, options.drain_seconds)
        await phase.gen.settle(0.3, options.settle_seconds)

        async def step(offered: float, kind: str, load: str) -> StepResult:
            result, set_aside = await self.patience.measured(
                phase.probe, lambda: self._attempt(phase, offered, kind, load)
            )
            self.results.set_aside += [r.as_dict() for r in set_aside]
            self.results.steps.append(result.as_dict())
            return result

        steps = await search(step, options)
        reference = limit_of(steps) if phase.name == "ceiling" else ceiling
        for fraction in options.fractions if reference else ():
            steps.append(await step(reference.delivered * fraction, "fixed", f"{fraction:.0%}"))
        return steps

    async def _attempt(self, phase: Phase, offered: float, kind: str, load: str) -> StepResult:
        options = self.options
        fields = await measure(phase.gen, phase.probe, options, phase.workload, offered)
        result = StepResult(phase.name, phase.workload.name, phase.round, kind, load, **fields)
        print(_describe(result), file=sys.stderr, flush=True)
        if not result.passed:  # let its backlog clear before the next step
            await phase.gen.settle(1.0, options.settle_seconds)
        return result

    async def _memory(self, target: Target, round_no: int) -> None:
        options = self.options
        result = await measure_memory(
            target.name,
            target.base_url,
            target.pid,
            target.conns,
            options.memory_counts,
            options.memory_settle_seconds,
        )
        print(
            f"round {round_no} memory {target.name:7} "
            f"{result.bytes_per_socket / 1024:.1f} KB/socket {result.points}",
            file=sys.stderr,
            flush=True,
        )
        self.results.memory.append({"contender": target.name, "round": round_no} | asdict(result))
