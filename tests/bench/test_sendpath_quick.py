"""`python -m chatd.bench.sendpath --quick` end to end, so that the benchmark never rots.

Run as a subprocess against the suite's PostgreSQL server and Redis; it asserts behaviour,
never speed: every case ran on both sides, with positive rates, and the report was written.
"""

import inspect
import json
import subprocess
import sys
from pathlib import Path

from chatd.bench.sendpath import CASES, MEMBER_SQL
from chatd.infrastructure.rooms import PgRoomRepo

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # `-m` imports chatd from the cwd


def test_the_raw_history_loop_checks_membership_as_chatd_does() -> None:
    assert MEMBER_SQL in inspect.getsource(PgRoomRepo.is_member)


def test_quick_run_measures_every_case_on_both_sides(
    pg_server_url: str, redis_server_url: str, tmp_path
) -> None:
    out = tmp_path / "results"
    argv = ["--quick", "--database-url", pg_server_url, "--redis-url", redis_server_url]
    command = [sys.executable, "-m", "chatd.bench.sendpath", *argv, "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr[-3000:]

    summary = json.loads((out / "sendpath.json").read_text())["summary"]
    assert [s["case"] for s in summary] == [case.name for case in CASES]
    for case in summary:
        assert all(rate > 0 for rate in case["chatd_per_s"] + case["raw_per_s"]), case
        assert case["median_ratio"] > 0, case
        assert f"| {case['case']} |" in done.stdout
