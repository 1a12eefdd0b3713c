"""`python -m chatd.bench.ceilings` still runs (docs/SCALING.md's figures come from it): each
measurement for a second, each printing a rate above zero. Speed is asserted nowhere."""

import re

import pytest

from chatd.bench.ceilings import main

pytestmark = pytest.mark.slow


def rate(line: str) -> float:
    return float(re.search(r": ([\d,]+) ", line).group(1).replace(",", ""))


def test_store(pg_server_url, capsys):
    small = ["--rooms", "3", "--writers", "1", "--posters", "8", "--seconds", "1"]
    main(["store", "--database-url", pg_server_url, *small])
    line = capsys.readouterr().out
    assert line.startswith("store: ") and rate(line) > 0, line


@pytest.mark.parametrize("cluster", [[], ["--cluster"]], ids=["one-redis", "cluster"])
def test_pubsub(redis_cluster_nodes, cluster, capsys):
    """(redis_cluster_nodes: skipped or failed like the cluster tests without redis-server.)"""
    main(["pubsub", *cluster, "--publishers", "1", "--channels", "30", "--seconds", "1"])
    line = capsys.readouterr().out
    assert line.startswith("pubsub: ") and rate(line) > 0, line
