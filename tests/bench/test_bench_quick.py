"""`chatd bench --quick` end to end, so that the benchmark never rots.

Against the suite's real PostgreSQL and Redis; it asserts behaviour, never speed: every
contender delivered, no step lost or duplicated a message, and the report was written.
"""

import json

import pytest

from chatd.bench import main

pytestmark = pytest.mark.slow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_quick_run_delivers_everything_and_writes_the_report(
    pg_server_url: str, redis_server_url: str, tmp_path, capsys
) -> None:
    out = tmp_path / "results"
    argv = ["--quick", "--database-url", pg_server_url, "--redis-url", redis_server_url]
    assert main([*argv, "--out", str(out)]) == 0

    results = json.loads((out / "results.json").read_text())
    steps = results["steps"]
    for contender in ("ceiling", "peer", "chatd"):
        for workload in ("1x20", "4x5"):
            ran = [s for s in steps if (s["contender"], s["workload"]) == (contender, workload)]
            assert ran, f"{contender} did not run {workload}"
            assert all(s["received"] > 0 for s in ran), ran
    assert all(s["lost"] == 0 and s["duplicates"] == 0 for s in steps), steps
    assert all(s["received"] == s["expected"] for s in steps), steps
    assert {m["contender"] for m in results["memory"]} == {"ceiling", "peer", "chatd"}

    table = (out / "results.md").read_text()
    assert "| 1x20 | chatd |" in table and "| 4x5 | peer |" in table
    assert table in capsys.readouterr().out
    for workload in ("1x20", "4x5"):
        assert (out / f"p99_{workload}.png").read_bytes().startswith(PNG_SIGNATURE)
