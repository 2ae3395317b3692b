"""The API scope test (tests/test_api_scope.py) run over the chains and coverage paths only, so this area
can be checked on its own: every list and read stays in the caller's subtree, and a write to an id
outside it answers exactly like a missing id."""

from __future__ import annotations

from typing import Any

import pytest

import tests.test_api_scope as base
from tests.test_api_scope import two_subtrees  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

MINE = tuple(
    f"/api/v1/industry/{area}/"
    for area in ("chains", "participations", "businesses", "projects", "employments", "coverage")
)
_whole_schema = base._schema


def _only_mine() -> dict[str, Any]:
    schema = _whole_schema()
    schema["paths"] = {p: ops for p, ops in schema["paths"].items() if p.startswith(MINE)}
    return schema


@pytest.fixture
def chains_paths_only(monkeypatch):
    monkeypatch.setattr(base, "_schema", _only_mine)


def test_the_chains_paths_are_all_mapped(chains_paths_only):
    paths = sorted(p for p, ops in base._schema()["paths"].items() if "get" in ops)
    assert len(paths) == 12
    assert [p for p in paths if p not in base.SCOPE_RULES] == []


@pytest.mark.parametrize("username", base.ROLES)
def test_chains_reads_and_writes_stay_in_scope(two_subtrees, chains_paths_only, username):  # noqa: F811
    base.test_no_role_lists_or_reads_outside_its_subtree(two_subtrees, username)
    base.test_writes_to_an_out_of_scope_id_answer_like_a_missing_one(two_subtrees, username)
