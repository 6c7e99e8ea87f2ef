"""Fixtures of the page tests: headless Chromium (Debian's ``/usr/bin/chromium``) driven by
Playwright, the API of tests/http and the daemon of tests/e2e.

Without Chromium or the ``playwright`` package the tests are skipped, except under
``CI=true``, where they fail.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

_TESTS = Path(__file__).resolve().parents[1]
for _folder in ("http", "e2e"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / _folder))

from http_support import FAST_HASHER, Api, make_api  # noqa: E402

CHROMIUM = os.environ.get("ACD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Every wait in the page tests (selectors, conditions), in milliseconds.
TIMEOUT_MS = 10_000


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh headless Chromium (its own user-data-dir): ``await browser.new_page()``."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"page tests cannot run under CI: {reason}")
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            locale="ru-RU",
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            await context.close()


@pytest.fixture
async def ui_api(tmp_path: Path) -> AsyncIterator[Api]:
    """The API of tests/http (SQLite, users of every role) on a real local port."""
    api = await make_api(f"sqlite+aiosqlite:///{tmp_path / 'ui.sqlite3'}", tmp_path, FAST_HASHER)
    try:
        yield api
    finally:
        await api.close()


@pytest.fixture
def console_errors() -> Callable[[Any], list[str]]:
    """``errors = console_errors(page)``: the page's JavaScript errors, to assert none."""

    def watch(page: Any) -> list[str]:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return errors

    return watch
