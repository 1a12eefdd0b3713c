"""From every step of every round to the figures: per round each contender's limit and its
ratio to the ceiling's limit in the same round, then the median and spread over rounds."""

from statistics import median


def _spread(values: list[float]) -> dict:
    return {"median": median(values), "min": min(values), "max": max(values)} if values else {}


def _limit(steps: list[dict]) -> dict | None:
    passed = [s for s in steps if s["phase"] == "search" and s["passed"]]
    best = max(passed, key=lambda s: s["delivered"], default=None)
    if best is None:
        return None
    other = (best["pg_cpu_s"] or 0.0) + (best["redis_cpu_s"] or 0.0)
    failed = [s for s in steps if s["phase"] == "search" and not s["passed"]]
    return {
        "delivered": best["delivered"],
        "per_cpu": best["received"] / best["server_cpu_s"] if best["server_cpu_s"] else 0.0,
        "per_cpu_all": best["received"] / (best["server_cpu_s"] + other)
        if best["server_cpu_s"]
        else 0.0,
        "p99_ms": best["p99_ms"],
        # Decided by a step that other processes disturbed: read with care.
        "disturbed": best["disturbed"] or any(s["disturbed"] for s in failed),
        # Only the generator fell behind where it stopped: the true limit may be higher.
        "lower_bound": not failed or all(s["reasons"] == ["generator"] for s in failed),
    }


def _by(steps: list[dict], **keys: object) -> list[dict]:
    return [s for s in steps if all(s[k] == v for k, v in keys.items())]


def limits(steps: list[dict], workload: str, contenders: list[str], rounds: int) -> list[dict]:
    rows = []
    ceiling = {
        r: _limit(_by(steps, workload=workload, contender="ceiling", round=r))
        for r in range(1, rounds + 1)
    }
    for name in contenders:
        per_round = {
            r: _limit(_by(steps, workload=workload, contender=name, round=r))
            for r in range(1, rounds + 1)
        }
        found = [v for v in per_round.values() if v]
        row: dict = {"workload": workload, "contender": name, "rounds": per_round}
        for key in ("delivered", "per_cpu", "per_cpu_all"):
            row[key] = _spread([v[key] for v in found])
            row[f"{key}_ratio"] = _spread(
                [
                    v[key] / c[key]
                    for r, v in per_round.items()
                    if v and (c := ceiling[r]) and c[key]
                ]
            )
        row["lower_bound"] = any(v["lower_bound"] for v in found)
        rows.append(row)
    return rows


def fixed(steps: list[dict], workload: str, contenders: list[str]) -> list[dict]:
    rows = []
    loads = sorted(
        {s["load"] for s in _by(steps, workload=workload, phase="fixed")},
        key=lambda text: float(text.rstrip("%")),
    )
    for load in loads:
        for name in contenders:
            found = _by(steps, workload=workload, contender=name, phase="fixed", load=load)
            if found:
                rows.append(
                    {
                        "workload": workload,
                        "contender": name,
                        "load": load,
                        "offered": median(s["offered"] for s in found),
                        **{q: median(s[q] for s in found) for q in ("p50_ms", "p99_ms", "p999_ms")},
                        "lost": sum(s["lost"] for s in found),
                        "passed": sum(s["passed"] for s in found),
                        "rounds": len(found),
                    }
                )
    return rows


def memory(entries: list[dict], contenders: list[str]) -> list[dict]:
    ceiling = {e["round"]: e["bytes_per_socket"] for e in entries if e["contender"] == "ceiling"}
    rows = []
    for name in contenders:
        found = [e for e in entries if e["contender"] == name]
        if found:
            ratios = [e["bytes_per_socket"] / c for e in found if (c := ceiling.get(e["round"]))]
            rows.append(
                {
                    "contender": name,
                    "bytes_per_socket": _spread([e["bytes_per_socket"] for e in found]),
                    "ratio": _spread(ratios),
                }
            )
    return rows


def summarize(steps: list[dict], memory_entries: list[dict], options: dict) -> dict:
    workloads, contenders = options["workloads"], options["contenders"]
    return {
        "limits": [
            row for w in workloads for row in limits(steps, w, contenders, options["rounds"])
        ],
        "fixed": [row for w in workloads for row in fixed(steps, w, contenders)],
        "memory": memory(memory_entries, contenders),
    }
