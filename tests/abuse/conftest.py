"""The abuse suites: each test states its figure (`[lost 0 of 10000]`) with the `figure`
fixture, which prints it and keeps it for the summary at the end of the run, so the figures
show in a plain `make test` too (pytest hides what a passing test prints)."""

from collections.abc import Callable

import pytest

FIGURE = "abuse_figure"  # the user_properties key; other suites' figures are not ours to print


@pytest.fixture
def figure(record_property) -> Callable[[str], None]:
    """figure("accepted 0 of 26"): print `[accepted 0 of 26]` and keep it for the summary."""

    def state(text: str) -> None:
        print(f"[{text}]")
        record_property(FIGURE, text)

    return state


def pytest_terminal_summary(terminalreporter) -> None:
    lines = [
        f"{report.nodeid}: [{value}]"
        for kind in ("passed", "failed")
        for report in terminalreporter.stats.get(kind, [])
        if report.when == "call"
        for name, value in report.user_properties
        if name == FIGURE
    ]
    if lines:
        terminalreporter.section("abuse figures")
        for line in lines:
            terminalreporter.write_line(line)
