"""hardening.audit's verdict from pip-audit's JSON: a pin counts as clean only when a service audited it.
(The run itself needs a vulnerability service on the network: `make audit`, docs/reliability.md.)"""

from __future__ import annotations

from hardening.audit import report_parse, verdict

CLEAN = {
    "dependencies": [
        {"name": "django", "version": "5.2.19", "vulns": []},
        {"name": "celery", "version": "5.7.0", "vulns": []},
    ],
    "fixes": [],
}
VULNERABLE = {
    "dependencies": [
        {
            "name": "django",
            "version": "5.2.1",
            "vulns": [
                {
                    "id": "PYSEC-2026-1",
                    "fix_versions": ["5.2.2", "6.0.1"],
                    "aliases": ["CVE-2026-0001"],
                    "description": "x",
                }
            ],
        },
        {"name": "celery", "version": "5.7.0", "vulns": []},
    ],
    "fixes": [],
}
SKIPPED = {
    "dependencies": [
        {
            "name": "django",
            "skip_reason": "Dependency not found on PyPI and could not be audited: django (5.2.19)",
        },
        {
            "name": "celery",
            "skip_reason": "Dependency not found on PyPI and could not be audited: celery (5.7.0)",
        },
    ],
    "fixes": [],
}


def test_all_audited_and_clean():
    code, lines = verdict([report_parse("pypi", CLEAN)], allow_unaudited=False)
    assert code == 0
    assert lines == [
        "service pypi: 2 audited, 0 not audited",
        "AUDIT OK: 2 pins audited, no known vulnerability",
    ]


def test_a_vulnerability_fails_even_when_unaudited_pins_are_allowed():
    code, lines = verdict([report_parse("pypi", VULNERABLE)], allow_unaudited=True)
    assert code == 1
    assert lines[1] == "VULNERABLE django==5.2.1: PYSEC-2026-1 (CVE-2026-0001); fixed in 5.2.2, 6.0.1"
    assert lines[-1] == "AUDIT FAILED: 1 known vulnerabilities in 2 audited pins"


def test_nothing_audited_is_never_clean():
    code, lines = verdict([report_parse("pypi", SKIPPED)], allow_unaudited=False)
    assert code == 2
    assert (
        lines[-1] == "AUDIT INCOMPLETE: none of 2 pins could be audited (no vulnerability service answered)"
    )
    assert lines[1].startswith("not audited (2): celery, django — e.g. Dependency not found on PyPI")
    code, lines = verdict([report_parse("pypi", SKIPPED)], allow_unaudited=True)
    assert code == 0
    assert lines[-1].startswith("AUDIT INCOMPLETE")


def test_a_second_service_fills_in():
    partial = {"dependencies": [CLEAN["dependencies"][0], SKIPPED["dependencies"][1]], "fixes": []}
    code, lines = verdict([report_parse("pypi", partial), report_parse("osv", CLEAN)], allow_unaudited=False)
    assert code == 0
    assert lines[-1] == "AUDIT OK: 2 pins audited, no known vulnerability"
    code, lines = verdict([report_parse("pypi", partial)], allow_unaudited=False)
    assert code == 2
    assert lines[-1] == (
        "AUDIT INCOMPLETE: 1 of 2 pins audited, no known vulnerability in those; 1 could not be audited"
    )
