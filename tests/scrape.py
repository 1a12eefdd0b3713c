"""Reading /metrics in tests, with prometheus_client's own text parser."""

import asyncio
import itertools
from collections.abc import Callable

import aiohttp
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple, float]


async def scrape(client: TestClient | aiohttp.ClientSession, url: str = "/metrics") -> Samples:
    """Every sample as {(name, *sorted label pairs): value}."""
    async with client.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {
        (sample.name, *sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape_until(
    client: TestClient | aiohttp.ClientSession,
    condition: Callable[[Samples], bool],
    *,
    url: str = "/metrics",
    within: float = 30.0,
) -> Samples:
    """Scrape until the samples satisfy condition (bounded); the samples that did."""
    async with asyncio.timeout(within):
        for _ in itertools.count():
            samples = await scrape(client, url)
            if condition(samples):
                return samples
            await asyncio.sleep(0.05)
    raise AssertionError("unreachable")
