"""The API scope test (tests/test_api_scope.py) run on this area's paths only — collective economy, joint
building, designations — so a half-finished endpoint elsewhere in the tree cannot hide a leak here: every
GET lists and reads only the caller's subtree, and every write to an out-of-scope id answers exactly like
a missing id."""

from __future__ import annotations

import re

import pytest

from governance import access
from governance.models import User
from tests.industry import scope_economy, scope_joint, scope_places
from tests.scope_types import Exempt, Scoped
from tests.test_api_scope import (
    MISSING_ID,
    ROLES,
    _assert_in_scope,
    _client,
    _fill,
    _inside_id,
    _is_list,
    _outside_id,
    _params,
    _rows,
    _schema,
    two_subtrees,  # noqa: F401 (the fixture)
)

pytestmark = pytest.mark.django_db

RULES: dict[str, Scoped | Exempt] = {**scope_economy.RULES, **scope_joint.RULES, **scope_places.RULES}
MINE = ("collective-incomes", "villages", "thresholds", "joint-", "designations")


def _mine(path: str) -> bool:
    return any(path.startswith(f"/api/v1/industry/{prefix}") for prefix in MINE)


@pytest.mark.usefixtures("two_subtrees")
def test_every_path_of_the_area_has_a_rule():
    paths = sorted(p for p, ops in _schema()["paths"].items() if _mine(p) and "get" in ops)
    assert paths == sorted(RULES)


@pytest.mark.usefixtures("two_subtrees")
@pytest.mark.parametrize("username", ROLES)
def test_reads_stay_inside_the_subtree(username):
    schema = _schema()
    user = User.objects.get(username=username)
    paths = access.outermost([path for _role, path in access.assignments(user)])
    client = _client(username)
    for path, rule in sorted(RULES.items()):
        if isinstance(rule, Exempt):
            continue
        get = schema["paths"][path]["get"]
        if not _params(path):
            rows = list(_rows(client, path))
            _assert_in_scope(rule, rows, user, paths, f"GET {path}")
            if username == "county_admin":
                assert rows, f"GET {path} is empty for the county admin"
            continue
        model, path_field = rule.under if rule.under else (rule.model, rule.path_field)
        missing = client.get(_fill(path, MISSING_ID))
        assert missing.status_code == 404
        outside = _outside_id(model, path_field, paths)
        if outside is not None:
            response = client.get(_fill(path, outside))
            assert (response.status_code, response.json()) == (404, missing.json()), (
                f"GET {_fill(path, outside)}"
            )
        inside = _inside_id(model, path_field, paths)
        if inside is not None:
            response = client.get(_fill(path, inside))
            if response.status_code == 200:
                rows = list(_rows(client, _fill(path, inside))) if _is_list(get) else [response.json()]
                _assert_in_scope(rule, rows, user, paths, f"GET {_fill(path, inside)}")
            else:
                assert username != "county_admin"
                assert response.status_code == 404


@pytest.mark.usefixtures("two_subtrees")
@pytest.mark.parametrize("username", ROLES)
def test_writes_to_an_out_of_scope_id_answer_like_a_missing_one(username):
    schema = _schema()
    user = User.objects.get(username=username)
    paths = access.outermost([path for _role, path in access.assignments(user)])
    client = _client(username)
    checked = 0
    for path, operations in sorted(schema["paths"].items()):
        if not _mine(path) or not _params(path):
            continue
        rule = RULES.get(path) or RULES.get(re.sub(r"(\{\w+\}/)[\w-]+/$", r"\1", path))
        assert isinstance(rule, Scoped), path
        model, path_field = rule.under if rule.under else (rule.model, rule.path_field)
        outside = _outside_id(model, path_field, paths)
        if outside is None:
            continue
        for method in ("post", "put", "patch", "delete"):
            if method not in operations:
                continue
            send = getattr(client, method)
            missing = send(_fill(path, MISSING_ID), {}, format="json")
            response = send(_fill(path, outside), {}, format="json")
            assert response.status_code not in range(200, 300)
            assert (response.status_code, response.json()) == (missing.status_code, missing.json()), (
                f"{method.upper()} {_fill(path, outside)} as {username}"
            )
            checked += 1
    if username != "county_admin":
        assert checked >= 6
