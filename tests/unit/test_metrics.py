"""/metrics' pieces: values read at scrape time, plain-int histograms, the counting ports; all
read back with prometheus_client's own text parser."""

from collections import Counter
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from chatd.domain.events import MessagePosted, UserTyping
from chatd.domain.model import Message
from chatd.infrastructure.counting import (
    CountingBus,
    CountingFailureLimiter,
    CountingRateLimiter,
    CountingSocket,
    Counts,
)
from chatd.interfaces.metrics import Metrics, PlainHistogram, timed_handlers
from tests.fakes import ALICE


def scrape(metrics: Metrics) -> dict[tuple[str, tuple], float]:
    """Every sample, by name and sorted labels."""
    text = metrics.render().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_values_are_read_when_scraped():
    metrics, state = Metrics(), {"open": 1, "kinds": Counter(user=2)}
    metrics.read_at_scrape.gauge("chatd_open", "open things", lambda: state["open"])
    metrics.read_at_scrape.counter(
        "chatd_things", "things by kind", lambda: state["kinds"], label="kind"
    )
    assert scrape(metrics)[("chatd_open", ())] == 1
    state["open"] = 5
    state["kinds"]["system"] += 3
    samples = scrape(metrics)
    assert samples[("chatd_open", ())] == 5
    assert samples[("chatd_things_total", (("kind", "user"),))] == 2
    assert samples[("chatd_things_total", (("kind", "system"),))] == 3


def test_a_plain_histogram_exports_cumulative_buckets():
    metrics, histogram = Metrics(), PlainHistogram((0.1, 1.0))
    metrics.read_at_scrape.histogram("chatd_wait_seconds", "waits", histogram, label="kind")
    for seconds in (0.05, 0.5, 0.5, 7.0):
        histogram.observe("a", seconds)
    samples = scrape(metrics)
    bucket = "chatd_wait_seconds_bucket"
    assert samples[(bucket, (("kind", "a"), ("le", "0.1")))] == 1
    assert samples[(bucket, (("kind", "a"), ("le", "1.0")))] == 3
    assert samples[(bucket, (("kind", "a"), ("le", "+Inf")))] == 4
    assert samples[("chatd_wait_seconds_count", (("kind", "a"),))] == 4
    assert samples[("chatd_wait_seconds_sum", (("kind", "a"),))] == 8.05


async def test_timed_handlers_time_each_frame_type_and_pass_results_and_errors():
    async def ok(*args):
        return {"args": args}

    async def fails(*args):
        raise ValueError("no")

    metrics = Metrics()
    before = scrape(metrics).get(("chatd_ws_frame_duration_seconds_count", (("type", "ok"),)), 0)
    handlers = timed_handlers({"ok": ok, "fails": fails})
    assert await handlers["ok"](1, 2) == {"args": (1, 2)}
    with pytest.raises(ValueError):
        await handlers["fails"]()
    samples = scrape(metrics)
    assert samples[("chatd_ws_frame_duration_seconds_count", (("type", "ok"),))] == before + 1
    assert samples[("chatd_ws_frame_duration_seconds_count", (("type", "fails"),))] >= 1


class Recorder:
    def __init__(self) -> None:
        self.calls = []

    def write(self, texts):
        self.calls.append(("send", list(texts)))
        return False

    async def close(self, *, code, message):
        self.calls.append(("close", code))
        return True

    async def publish(self, event):
        self.calls.append(("publish", event))


class Limiter:
    def __init__(self, wait: int) -> None:
        self.wait = wait

    async def acquire(self, key):
        return self.wait

    async def retry_after(self, keys):
        return self.wait

    async def record_failure(self, keys):
        pass


async def test_counting_ports_pass_everything_through_and_count():
    counts, inner = Counts(), Recorder()
    socket = CountingSocket(inner, counts)
    assert socket.write(["a", "b"]) is False
    assert socket.write(["c"]) is False
    assert await socket.close(code=1013, message=b"slow") is True
    assert counts.frames_delivered == 3 and counts.queue_overflows == 1
    assert inner.calls == [("send", ["a", "b"]), ("send", ["c"]), ("close", 1013)]

    bus = CountingBus(inner, counts)
    message = Message(1, 3, 1, "system", None, "alice joined", None, datetime.now(UTC))
    await bus.publish(MessagePosted(message))
    await bus.publish(UserTyping(room_id=3, user=ALICE))
    assert counts.events == {"MessagePosted": 1, "UserTyping": 1}
    assert counts.messages == {"system": 1}

    assert await CountingRateLimiter(Limiter(0), counts, kind="message").acquire("k") == 0
    assert await CountingRateLimiter(Limiter(4), counts, kind="message").acquire("k") == 4
    assert await CountingFailureLimiter(Limiter(9), counts, kind="login").retry_after(["k"]) == 9
    assert counts.refusals == {"message": 1, "login": 1}
