"""Steps disturbed by other processes on the host are set aside and run again.

The machine may be shared (2 cores; other people's test suites): a step during which processes
that are not the benchmark's used more than `max_other_cpu` of a core is run again, after
waiting for the host to calm down, as long as the run's patience lasts. What was set aside is
kept in results.json, and the report counts it.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

from chatd.bench.probe import Probe
from chatd.bench.steps import StepResult

QUIET_WINDOW = 0.5  # seconds over which the host must be calm before a step
LONGEST_WAIT = 10.0  # for calm before one step, so that patience lasts through the run
ATTEMPTS = 3


class Patience:
    def __init__(self, seconds: float, max_other_cpu: float) -> None:
        self.left, self.max_other_cpu = seconds, max_other_cpu

    async def calm(self, probe: Probe) -> None:
        """Wait until other processes use less than the limit, for a while (LONGEST_WAIT)
        while patience lasts."""
        deadline = time.monotonic() + LONGEST_WAIT
        while self.left > 0 and time.monotonic() < deadline:
            began = time.monotonic()
            before = await probe.sample()
            await asyncio.sleep(QUIET_WINDOW)
            spent = probe.spent(before, await probe.sample())
            if spent.other / spent.seconds <= self.max_other_cpu:
                return
            self.left -= time.monotonic() - began

    async def measured(
        self, probe: Probe, attempt: Callable[[], Awaitable[StepResult]]
    ) -> tuple[StepResult, list[StepResult]]:
        """Run a step once the host is calm, and again while it comes out disturbed and
        patience lasts: the result to use, and the disturbed ones set aside."""
        set_aside: list[StepResult] = []
        for _ in range(ATTEMPTS):
            await self.calm(probe)
            began = time.monotonic()
            result = await attempt()
            if not result.disturbed or self.left <= 0:
                break
            self.left -= time.monotonic() - began
            set_aside.append(result)
        return result, set_aside
