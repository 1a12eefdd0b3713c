"""Only the memory step, for a quick check of memory per idle socket:
`python -m chatd.bench.memory_only [--contenders ceiling,chatd] [--workload 1x200:4]
[--counts 0,500,1000] [--rounds 2] [--chatd-source DIR]`.

Each round starts every contender fresh (as the full run does, embedded PostgreSQL and Redis),
measures the RSS slope with `chatd.bench.memory` and stops it; no load is sent.
"""

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from chatd.bench.cli import _ints, _names
from chatd.bench.contenders import launch
from chatd.bench.memory import measure_memory
from chatd.bench.options import Workload
from chatd.bench.services import bench_services, pin_embedded


async def _rounds(args: argparse.Namespace, workdir: Path) -> None:
    with bench_services(None, None, workdir) as services:
        await pin_embedded(services)
        for round_no in range(1, args.rounds + 1):
            for name in args.contenders:
                launching = launch(
                    name,
                    args.workload,
                    services,
                    workdir,
                    uvloop=False,
                    chatd_source=args.chatd_source,
                )
                async with launching as target:
                    result = await measure_memory(
                        name, target.base_url, target.pid, target.conns, args.counts, 1.0
                    )
                kb = result.bytes_per_socket / 1024
                print(f"round {round_no} {name:7} {kb:.1f} KB/socket {result.points}")
                sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m chatd.bench.memory_only")
    parser.add_argument("--contenders", type=_names, default=("ceiling", "chatd"))
    parser.add_argument("--workload", type=Workload.parse, default=Workload(1, 200, 4))
    parser.add_argument("--counts", type=_ints, default=(0, 500, 1000))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--chatd-source", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chatd-bench-mem-") as tmp:
        asyncio.run(_rounds(args, Path(tmp)))


if __name__ == "__main__":
    main()
