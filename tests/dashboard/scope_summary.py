"""The dashboard summary's part of tests/test_api_scope.py.

GET /api/v1/dashboard/summary/ answers one object (a region's figures), not a list of regional rows, so
the generic walk (rows in the caller's subtree, `{id}` out of scope = missing) does not apply. Its scope
is asserted in tests/dashboard/test_summary.py: each demo log-in gets its own region by default and 404
for a region outside its subtree (the same answer as an unknown code), a role without the dashboard
gets 404, anonymous 401.
"""

from __future__ import annotations

from tests.scope_types import Exempt, Scoped

RULES: dict[str, Scoped | Exempt] = {
    "/api/v1/dashboard/summary/": Exempt(
        "one region's figures, not a list of rows: its scope (own region by default, a region outside the "
        "caller's subtree 404 like an unknown code, no dashboard role 404) is tested in "
        "tests/dashboard/test_summary.py"
    ),
}
