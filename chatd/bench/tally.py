"""What a load-generator process's receivers saw during one step.

Latency runs from the *scheduled* send time stamped in the body (CLOCK_MONOTONIC, which is
system-wide on Linux, so comparable across processes), in microseconds. Latencies are kept in
a list during the step and go into the HdrHistogram after it, off the receiving path.
Per receiving socket and sender, a seq at most the last one seen is a duplicate; the deliveries
still missing when the step ends are losses.
"""

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

from chatd.bench.wire import MARK, Wire

HIGHEST_US = 60_000_000
CLOCK = time.CLOCK_MONOTONIC


def now_ns() -> int:
    return time.clock_gettime_ns(CLOCK)


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, HIGHEST_US, 3)


@dataclass(slots=True)
class Link:
    """One socket's receiving state for the current step."""

    sender: int | None
    room: str
    last: dict[int, int] = field(default_factory=dict)


class Tally:
    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.step = -1
        self.latencies_ns: list[int] = []
        self.expected = self.received = self.duplicates = self.stale = self.errors = 0
        self.complete = asyncio.Event()
        self.last_frame_ns = 0

    def begin(self, step: int, expected: int, links: list[Link]) -> None:
        self.step, self.expected = step, expected
        self.latencies_ns = []
        self.received = self.duplicates = self.stale = self.errors = 0
        self.complete.clear()
        for link in links:
            link.last.clear()
        if expected == 0:
            self.complete.set()

    def histogram(self) -> HdrHistogram:
        histogram = new_histogram()
        for micros, count in Counter(ns // 1000 for ns in self.latencies_ns).items():
            histogram.record_value(min(max(micros, 1), HIGHEST_US), count)
        return histogram

    def frame(self, link: Link, payload: bytes) -> str | None:
        """Count one received text frame; return the reply it calls for, if any."""
        self.last_frame_ns = now = now_ns()
        found = MARK.search(payload)
        if found is None:
            self.errors += self.wire.is_error(payload)
            return self.wire.answer(payload)
        step, sender, seq, scheduled = map(int, found.groups())
        if sender == link.sender and not self.wire.is_delivery(payload):
            return None
        if step != self.step:
            self.stale += 1
            return None
        self.latencies_ns.append(now - scheduled)
        if seq <= link.last.get(sender, -1):
            self.duplicates += 1
            return None
        link.last[sender] = seq
        self.received += 1
        if self.received >= self.expected:
            self.complete.set()
        return None
