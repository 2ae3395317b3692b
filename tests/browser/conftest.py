"""The browser fixtures live in tests/browser_fixtures.py (loaded for the whole suite by tests/conftest.py,
so that every test shares one Chromium); `login` is re-exported here for the tests that import it."""

from tests.browser_fixtures import login

__all__ = ["login"]
