"""The project's own benchmark: `python -m chatd.bench` or `chatd bench` (docs/BENCHMARKS.md).

Importing this package costs nothing: the bench extra (python-socketio, hdrhistogram,
matplotlib) is only needed once `main` runs.
"""


def main(argv: list[str] | None = None) -> int:
    from chatd.bench.cli import run

    return run(argv)


__all__ = ["main"]
