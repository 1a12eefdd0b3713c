"""p99 latency against offered load, one PNG per workload, the three contenders on each:
the step-up search as a line per round, the fixed loads as squares."""

from pathlib import Path

COLOURS = {"ceiling": "tab:green", "peer": "tab:blue", "chatd": "tab:red"}


def _points(steps: list[dict], **keys: object) -> tuple[list[float], list[float]]:
    found = sorted(
        (s["offered"], max(s["p99_ms"], 0.001))
        for s in steps
        if all(s[k] == v for k, v in keys.items())
    )
    return [x for x, _ in found], [y for _, y in found]


def draw(steps: list[dict], out: Path, p99_limit_ms: float) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    rounds = sorted({s["round"] for s in steps})
    for workload in dict.fromkeys(s["workload"] for s in steps):
        figure, axes = pyplot.subplots(figsize=(7.5, 4.8), dpi=110)
        for name in dict.fromkeys(s["contender"] for s in steps):
            colour = COLOURS.get(name)
            for round_no in rounds:
                keys = {"workload": workload, "contender": name, "round": round_no}
                xs, ys = _points(steps, **keys, phase="search")
                label = name if round_no == rounds[0] else None
                axes.plot(xs, ys, "o-", color=colour, alpha=0.7, label=label)
                xs, ys = _points(steps, **keys, phase="fixed")
                axes.plot(xs, ys, "s", color=colour, alpha=0.7, markerfacecolor="none")
        axes.axhline(p99_limit_ms, color="grey", linestyle="--", linewidth=1, label="p99 limit")
        axes.set(xscale="log", yscale="log", xlabel="offered deliveries/s", ylabel="p99 (ms)")
        axes.set_title(f"{workload}: p99 against offered load (o search, □ fixed loads)")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
        figure.tight_layout()
        path = out / f"p99_{workload}.png"
        figure.savefig(path)
        pyplot.close(figure)
        paths.append(path)
    return paths
