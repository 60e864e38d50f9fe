"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium), not a downloaded one.

Every browser context a test opens is watched: a Content-Security-Policy violation reported by the
browser, or an uncaught error in a page's script, fails the test when it ends."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Playwright's sync API runs an event loop in the test thread; Django then refuses ORM calls from
# that thread unless told that this is a test setup it can trust.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make system-deps`")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        new_context = browser.new_context

        def watched_context(*args: object, **kwargs: object) -> object:
            context = new_context(*args, **kwargs)
            watch(context)
            return context

        browser.new_context = watched_context  # type: ignore[method-assign]
        yield browser
        browser.close()


#: What the browser reported during the running test (CSP violations, uncaught page errors).
PROBLEMS: list[str] = []
# Reports the details Chromium's own console line leaves out (which file, which line).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
  `Content Security Policy violation: ${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`
  + ` in ${e.sourceFile || document.location.pathname}:${e.lineNumber} (${e.sample || ""})`));
"""


def watch(context) -> None:
    context.add_init_script(REPORT_VIOLATIONS)

    def console(message) -> None:
        if "Content Security Policy" in message.text:
            PROBLEMS.append(f"{message.page.url if message.page else ''}: {message.text}")

    def page_error(error) -> None:
        PROBLEMS.append(f"{error.page.url if error.page else ''}: uncaught error {error.error}")

    context.on("console", console)
    context.on("weberror", page_error)


@pytest.fixture(autouse=True)
def no_browser_problems() -> Iterator[None]:
    """Fail a browser test whose pages broke the Content-Security-Policy or threw an error."""
    PROBLEMS.clear()
    yield
    found, PROBLEMS[:] = list(PROBLEMS), []
    if found:
        pytest.fail("The browser reported:\n" + "\n".join(dict.fromkeys(found)), pytrace=False)


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1440, "height": 900}
    )
    page = context.new_page()
    yield page
    context.close()
