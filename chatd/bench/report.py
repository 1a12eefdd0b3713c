"""results.md and results.json: the figures as a Markdown table, and everything raw."""

import json
from pathlib import Path


def _x(spread: dict) -> str:
    """A ratio's median and its spread over rounds."""
    if not spread:
        return "-"
    if spread["min"] == spread["max"]:
        return f"{spread['median']:.2f}x"
    return f"{spread['median']:.2f}x ({spread['min']:.2f}-{spread['max']:.2f})"


def _n(spread: dict, scale: float = 1.0) -> str:
    return f"{spread['median'] / scale:,.0f}" if spread else "-"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _limits(summary: dict, rounds: int) -> list[str]:
    rows = [
        [
            row["workload"],
            row["contender"],
            ("≥ " if row["lower_bound"] else "") + _n(row["delivered"]),
            _x(row["delivered_ratio"]),
            _n(row["per_cpu"]),
            _x(row["per_cpu_ratio"]),
            _n(row["per_cpu_all"]),
            _x(row["per_cpu_all_ratio"]),
        ]
        for row in summary["limits"]
    ]
    header = [
        "workload",
        "contender",
        "deliveries/s",
        "x ceiling",
        "per server CPU-s",
        "x ceiling",
        "per CPU-s incl. PG+Redis",
        "x ceiling",
    ]
    intro = (
        f"Highest sustained delivered rate (p99 ≤ limit, no loss, generator on schedule), median "
        f"of {rounds} round(s); ratios are to the ceiling in the same round: median (min-max). "
        "Per CPU-second figures are at that highest passing step. `≥`: the search stopped "
        "because the load generator fell behind (or never failed), so the figure is a lower bound."
    )
    return [intro, "", *_table(header, rows)]


def _per_round(summary: dict) -> list[str]:
    def cell(found: dict | None) -> str:
        if not found:
            return "-"
        mark = "≥ " if found["lower_bound"] else ""
        return f"{mark}{found['delivered']:,.0f}" + ("*" if found["disturbed"] else "")

    rows = [
        [row["workload"], row["contender"], *(cell(v) for v in row["rounds"].values())]
        for row in summary["limits"]
    ]
    rounds = len(summary["limits"][0]["rounds"]) if summary["limits"] else 0
    header = ["workload", "contender", *(f"round {n}" for n in range(1, rounds + 1))]
    intro = "The same limits round by round (deliveries/s; `*`: decided by a disturbed step):"
    return [intro, "", *_table(header, rows)]


def _fixed(summary: dict) -> list[str]:
    rows = [
        [
            row["workload"],
            row["load"],
            f"{row['offered']:,.0f}",
            row["contender"],
            f"{row['p50_ms']:.1f}",
            f"{row['p99_ms']:.1f}",
            f"{row['p999_ms']:.1f}",
            str(row["lost"]),
            f"{row['passed']}/{row['rounds']}",
        ]
        for row in summary["fixed"]
    ]
    header = [
        "workload",
        "load",
        "deliveries/s",
        "contender",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "lost",
        "passed",
    ]
    intro = "Latency at fixed loads, fractions of the ceiling's limit (medians over rounds):"
    return [intro, "", *_table(header, rows)]


def _memory(summary: dict) -> list[str]:
    rows = [
        [row["contender"], _n(row["bytes_per_socket"], 1024) + " KB", _x(row["ratio"])]
        for row in summary["memory"]
    ]
    intro = "Memory per idle socket (slope of the server's RSS against open sockets):"
    return [intro, "", *_table(["contender", "per socket", "x ceiling"], rows)]


def _cpu(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _step_row(s: dict) -> list[str]:
    verdict = "ok" if s["passed"] else ",".join(s["reasons"])
    return [
        str(s["round"]),
        s["workload"],
        s["contender"],
        f"{s['phase']} {s['load']}".strip(),
        f"{s['offered']:,.0f}",
        f"{s['delivered']:,.0f}",
        f"{s['p50_ms']:.1f}",
        f"{s['p99_ms']:.1f}",
        f"{s['p999_ms']:.1f}",
        str(s["lost"]),
        str(s["duplicates"]),
        f"{s['max_lag_ms']:.0f}",
        _cpu(s["server_cpu_s"]),
        _cpu(s["pg_cpu_s"]),
        _cpu(s["redis_cpu_s"]),
        f"{s['load_cpu_busy']:.0%}",
        _cpu(s["other_cpu_s"]),
        verdict + (" (disturbed)" if s["disturbed"] else ""),
    ]


def _steps(title: str, steps: list[dict]) -> list[str]:
    header = [
        "round",
        "workload",
        "contender",
        "phase",
        "offered/s",
        "delivered/s",
        "p50",
        "p99",
        "p99.9",
        "lost",
        "dup",
        "lag ms",
        "server CPU s",
        "PG s",
        "Redis s",
        "load CPU",
        "others s",
        "verdict",
    ]
    rows = [_step_row(s) for s in steps]
    return [f"<details><summary>{title}</summary>", "", *_table(header, rows), "", "</details>"]


def _disturbance(results: dict) -> list[str]:
    options = results["options"]
    still = sum(s["disturbed"] for s in results["steps"])
    return [
        f"Disturbance: {len(results['set_aside'])} step(s) ran while other processes on the "
        f"host used more than {options['max_other_cpu']} of a core, and were run again; "
        f"{still} step(s) counted here were still disturbed when patience ran out. "
        '"others s" in the step table is that CPU time (processes that start and end within '
        "one step go unseen)."
    ]


def markdown(results: dict, summary: dict, plots: list[Path]) -> str:
    options, versions = results["options"], results["versions"]
    lines = [
        "# chatd benchmark results",
        "",
        f"Command: `{options['command']}` — {options['rounds']} round(s), "
        f"took {results['seconds'] / 60:.1f} min.",
        "",
        *_table(["component", "version"], [[k, str(v)] for k, v in versions.items()]),
        "",
        *_limits(summary, options["rounds"]),
        "",
        *_per_round(summary),
        "",
        *_fixed(summary),
        "",
        *_memory(summary),
        "",
        *_disturbance(results),
        "",
        *[f"![p99 against offered load, {p.stem}]({p.name})" for p in plots],
        "",
        *_steps("Every step", results["steps"]),
        "",
        *_steps("Steps set aside as disturbed (run again)", results["set_aside"]),
        "",
    ]
    return "\n".join(lines)


def write(out: Path, results: dict, summary: dict, plots: list[Path]) -> str:
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(results, summary, plots)
    (out / "results.md").write_text(text, encoding="utf-8")
    payload = results | {"summary": summary}
    (out / "results.json").write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    return text
