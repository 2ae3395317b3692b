"""A short run of the schema fuzzer (hardening/fuzz.py, `make fuzz`) inside the suite: a few dozen cases
on the region operations as the county administrator, through the WSGI app on the test database.

The clean run must find nothing; two deliberately broken versions of the same operations — one that
crashes (a 500) and one whose answer drops a field the schema requires — must each be reported, so the
checks are known to bite.
"""

from __future__ import annotations

import io

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from governance.api import regions as regions_api
from governance.models import User
from hardening import fuzz

SMOKE = fuzz.Profile(positive=4, negative=2, scenarios=3, steps=4)
OPERATIONS = "/api/v1/governance/regions/"


@pytest.fixture
def schema(db):
    # In process through the WSGI handler, as the test client does: the end of a request must not close
    # the test's connection (it holds the test's transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield fuzz.load_schema()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def smoke(schema) -> fuzz.Tally:
    # The token straight from the model: the test client (which fuzz.tokens_for uses) reconnects the
    # connection-closing signal after its request.
    token, _created = Token.objects.get_or_create(user=User.objects.get(username="county_admin"))
    return fuzz.run(
        roles=["county_admin"],
        profile=SMOKE,
        seed=9,
        only=OPERATIONS,
        schema=schema,
        tokens={"county_admin": token.key},
        progress=io.StringIO(),
    )


def test_the_region_operations_pass_the_fuzzer(demo_county, schema):
    tally = smoke(schema)

    operations = {label for _role, label in tally.cases}
    assert operations == {
        "GET /api/v1/governance/regions/",
        "GET /api/v1/governance/regions/{id}/",
        "GET /api/v1/governance/regions/{id}/children/",
    }
    assert tally.total() >= 12
    assert [f"{f.operation}: {f.message}" for f in tally.failures] == []
    assert not [code for code in tally.statuses if code >= 500]
    out = io.StringIO()
    fuzz.report(tally, roles=["county_admin"], seconds=1.0, out=out)
    assert out.getvalue().splitlines()[-1].startswith("fuzz: PASS — ")


def test_a_server_error_is_reported_with_its_reproduction(demo_county, schema, monkeypatch):
    def crash(self):
        raise RuntimeError("deliberate crash for the fuzz smoke test")

    monkeypatch.setattr(regions_api.RegionListApi, "get_queryset", crash)
    tally = smoke(schema)

    crashes = [f for f in tally.failures if f.operation == "GET /api/v1/governance/regions/"]
    assert crashes, tally.failures
    assert crashes[0].status == 500
    assert "ServerError" in crashes[0].checks
    assert "deliberate crash for the fuzz smoke test" in crashes[0].server_traceback
    assert crashes[0].reproduction.startswith("curl -X GET ")
    out = io.StringIO()
    fuzz.report(tally, roles=["county_admin"], seconds=1.0, out=out)
    assert out.getvalue().splitlines()[-1].startswith("fuzz: FAIL — ")


def test_an_answer_that_breaks_the_schema_is_reported(demo_county, schema, monkeypatch):
    class Broken(regions_api.RegionOutputSerializer):
        def to_representation(self, instance):
            data = super().to_representation(instance)
            data.pop("name")  # required by the schema
            return data

    monkeypatch.setattr(regions_api.RegionListApi, "serializer_class", Broken)
    tally = smoke(schema)

    broken = [f for f in tally.failures if f.operation == "GET /api/v1/governance/regions/"]
    assert broken, [f.operation for f in tally.failures]
    assert broken[0].status == 200
    assert broken[0].checks == ["JsonSchemaError"]
    assert '"name" is a required property' in broken[0].message
