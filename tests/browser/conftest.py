"""Fixtures of the browser tests: one local web site per test session, served on 127.0.0.1,
and a check that a Chromium-family browser is there (the tests drive a real one)."""

from __future__ import annotations

import pytest
from browser_site import Site


@pytest.fixture(scope="session")
def site():
    s = Site().start()
    yield s
    s.stop()


@pytest.fixture(scope="session", autouse=True)
def real_browser():
    """Fail loudly (not skip) when the machine has no browser: CI installs Debian's chromium."""
    from botloom.nodes.browser import discover

    return discover.resolve("auto")
