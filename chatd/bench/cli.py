"""`python -m chatd.bench` / `chatd bench`: parse the options, run, write the report."""

import argparse
import asyncio
import os
import shlex
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from chatd.bench.options import CONTENDERS, Options, Workload, quick_options

EXTRA_HINT = "install the bench extra: pip install -e '.[bench]'"


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(",") if part)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part)


def _names(text: str) -> tuple[str, ...]:
    names = tuple(part for part in text.split(",") if part)
    if unknown := set(names) - set(CONTENDERS):
        raise argparse.ArgumentTypeError(f"unknown contenders: {', '.join(sorted(unknown))}")
    # The ceiling goes first: the others are measured at fractions of its limit.
    return tuple(sorted(names, key=CONTENDERS.index))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatd bench",
        description="chatd against a bare aiohttp broadcast (ceiling) and python-socketio "
        "with AsyncRedisManager (peer): open-loop load, HdrHistogram latencies, alternating "
        "fresh servers (see docs/BENCHMARKS.md)",
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="each workload small and short (under a minute)")
    add("--rounds", type=int, help="rounds of every contender (default 3)")
    add(
        "--workloads",
        type=lambda t: tuple(Workload.parse(w) for w in t.split(",")),
        help="ROOMSxMEMBERS[:SENDERS],… (default 1x200:4,20x10:20)",
    )
    add("--contenders", type=_names, help="comma list of ceiling,peer,chatd")
    add("--step-seconds", type=float, help="how long each step sends (default 2)")
    add("--start-rate", type=float, help="deliveries/s of the first step (default 5000)")
    add("--factor", type=float, help="rate multiplier between ladder steps (default 2)")
    add("--max-steps", type=int, help="ladder steps before refining (default 8)")
    add("--refine", type=int, help="bisections after the first failing step (default 2)")
    add("--fractions", type=_floats, help="fixed loads, fractions of the ceiling's limit")
    add(
        "--memory-counts", type=_ints, help="idle sockets to measure memory at (default 0,500,1000)"
    )
    add("--procs", type=int, help="load generator processes (default 2)")
    add("--uvloop", action="store_true", default=None, help="every server on uvloop")
    add("--p99-limit-ms", type=float, help="a step passes only under this p99 (default 250)")
    add("--lag-limit-ms", type=float, help="a sender this late: generator-limited (default 100)")
    add(
        "--max-other-cpu",
        type=float,
        help="cores other processes may use before a step is disturbed (default 0.2)",
    )
    add(
        "--patience",
        dest="patience_seconds",
        type=float,
        help="seconds, in all, for waiting out and repeating disturbed steps (default 300)",
    )
    add(
        "--database-url",
        default=os.environ.get("CHATD_BENCH_DATABASE_URL"),
        help="PostgreSQL server (CHATD_BENCH_DATABASE_URL; default: embedded)",
    )
    add(
        "--redis-url",
        default=os.environ.get("CHATD_BENCH_REDIS_URL"),
        help="Redis (CHATD_BENCH_REDIS_URL; default: embedded)",
    )
    add(
        "--chatd-source",
        type=Path,
        help="run `chatd` from this source tree (e.g. a `git archive` of a commit)",
    )
    add("--out", type=Path, help="write results.md, results.json and the plots here")
    return parser


def options_from(args: argparse.Namespace, argv: list[str]) -> Options:
    base = quick_options() if args.quick else Options()
    changes = {k: v for k, v in vars(args).items() if k != "quick"}
    command = shlex.join(["python", "-m", "chatd.bench", *argv])
    return base.with_changes(**changes, extra={"command": command})


def run(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    try:
        import hdrh.histogram  # noqa: F401
        import matplotlib  # noqa: F401
        import socketio  # noqa: F401
    except ImportError as missing:
        print(f"chatd bench: {missing.name} is missing: {EXTRA_HINT}", file=sys.stderr)
        return 2
    options = options_from(args, argv)
    text = execute(options)
    print(text)
    return 0


def execute(options: Options) -> str:
    from chatd.bench import plots, report
    from chatd.bench.runner import Runner
    from chatd.bench.services import bench_services
    from chatd.bench.summary import summarize

    with tempfile.TemporaryDirectory(prefix="chatd-bench-") as tmp:
        workdir = Path(tmp)
        with bench_services(options.database_url, options.redis_url, workdir) as services:
            results = asyncio.run(Runner(options, services, workdir).run())
    results.options = {
        **{k: v for k, v in asdict(options).items() if k not in {"database_url", "redis_url"}},
        "workloads": [w.name for w in options.workloads],
        "command": options.extra.get("command", ""),
        "services": "embedded" if services.embedded_pg else "given",
    }
    raw = asdict(results)
    summary = summarize(raw["steps"], raw["memory"], raw["options"])
    if options.out is None:
        return report.markdown(raw, summary, [])
    drawn = plots.draw(raw["steps"], options.out, options.p99_limit_ms)
    return report.write(options.out, raw, summary, drawn)
