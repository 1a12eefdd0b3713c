"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, against the real app.

Playwright's own browser download does not work on our machines: the tests drive Debian's
Chromium, which `.ci/ensure-chromium` installs (`make test` and `.ci/run` call it). Where it is
missing, `make test` skips them with the line "skipped: no chromium"; `.ci/run` sets
CHATD_REQUIRE_BROWSER=1, so there a missing Chromium fails them instead: CI never skips them.

Every page a test opens is watched: a console error, an uncaught exception or a dialog (an
`alert` would be a script injected through a message) fails the test, unless the test names
the console line it expects (`PageWatch.expect`), such as the browser's own log line for an
HTTP error the test provokes on purpose.
"""

import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Dialog, Page, async_playwright

from tests.support import Api

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def chromium() -> Path:
    found = shutil.which("chromium") or "/usr/bin/chromium"
    if Path(found).exists():
        return Path(found)
    advice = "the browser tests need Debian's chromium package: apt-get install chromium"
    if os.environ.get("CHATD_REQUIRE_BROWSER") == "1":
        pytest.fail(f"no chromium, and CHATD_REQUIRE_BROWSER=1: {advice}", pytrace=False)
    pytest.skip(f"skipped: no chromium ({advice})")


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        await browser.close()


class PageWatch:
    """What went wrong in the pages of one test: console errors, page errors, dialogs."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self._expected: list[re.Pattern[str]] = []

    def expect(self, pattern: str) -> None:
        """A console error matching `pattern` is part of the scenario, not a defect."""
        self._expected.append(re.compile(pattern))

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("dialog", self._on_dialog)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if any(pattern.search(message.text) for pattern in self._expected):
            return
        self.problems.append(f"console error: {message.text}")

    async def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        self.problems.append(f"a {dialog.type} dialog opened: {dialog.message!r}")
        await dialog.dismiss()


OpenPage = Callable[..., Awaitable[Page]]


@pytest.fixture
def page_watch() -> PageWatch:
    return PageWatch()


@pytest.fixture
def server_url(api: Api) -> str:
    """The chatd the pages talk to; a module may override it (another app, a real process).
    `open_page` depends on it, so the pages are closed before that server stops."""
    return api.base_url


@pytest.fixture
async def open_page(
    browser: Browser, page_watch: PageWatch, server_url: str
) -> AsyncIterator[OpenPage]:
    """open_page(**context_options): a page of `server_url` in a browser context of its own
    (its own sessionStorage: another tab, or another person), watched for errors."""
    contexts = []

    async def open_(**options: Any) -> Page:
        context = await browser.new_context(base_url=server_url, **options)
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(15_000)
        page_watch.watch(page)
        return page

    yield open_
    for context in contexts:
        await context.close()
    assert not page_watch.problems, "\n".join(page_watch.problems)


@pytest.fixture
async def page(open_page: OpenPage) -> Page:
    return await open_page()
