"""Checks over the repository's own files: translations complete, no spun words, no CDN, compose stack."""

import re
import subprocess
from pathlib import Path

import yaml

from tests.conftest import ROOT

# The machine-reworded words of the published source text (shared/glossary.md): never in the UI.
# Written as escapes so that this list itself never matches a search for the wrong words.
SPUN_WORDS = [
    "\u8d64\u8272\u9a7f\u7ad9",
    "\u62b5\u727e",
    "\u56e2\u4f53\u7ecf\u6d4e",
    "\u56e2\u7ed3\u515a\u59d4",
    "\u4e0b\u5c42\u515a",
    "\u897f\u5e2d",
    "\u519c\u4ea7\u7269",
    "\u6b22\u8fce\u91cf",
    "\u8d64\u8272\u6f02\u4eae",
    "\u8c03\u548c\u5584\u6cbb",
    "\u5bf9\u5cd9\u56e0\u5730",
    "\u7f57\u81f4\u8425\u517b",
    "\u5230\u573a\u4e61\u6751",
    "\u9a7b\u8db3\u4ea7\u4e1a",
    "\u7cbe\u826f\u5c40\u9762",
]
SOURCE_GLOBS = ["**/*.py", "**/*.html", "**/*.js", "**/*.po", "**/*.css"]
SKIP_PARTS = {".venv", "staticfiles", "vendor", "node_modules", "test-artifacts", ".git"}


def project_files() -> list[Path]:
    files: list[Path] = []
    for pattern in SOURCE_GLOBS:
        files += [p for p in ROOT.glob(pattern) if not SKIP_PARTS.intersection(p.relative_to(ROOT).parts)]
    return files


def test_no_spun_words_anywhere():
    offenders = []
    for path in project_files():
        if path.name == "test_repo_hygiene.py":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{path.relative_to(ROOT)}: {w}" for w in SPUN_WORDS if w in text]
    assert offenders == []


def test_no_asset_from_a_cdn():
    pattern = re.compile(
        r"https?://[a-z0-9.-]*(cdn|unpkg|jsdelivr|bootcdn|staticfile|googleapis)[a-z0-9.-]*/"
    )
    offenders = [
        str(p.relative_to(ROOT))
        for p in project_files()
        if p.suffix in {".html", ".py", ".js", ".css"}
        and pattern.search(p.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []


def test_english_catalogue_is_complete_and_compiled():
    po = ROOT / "locale/en/LC_MESSAGES/django.po"
    mo = po.with_suffix(".mo")
    assert mo.exists(), "run make messages"
    # msgfmt --statistics reports translated / fuzzy / untranslated counts.
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "fuzzy" not in result.stderr
    assert "untranslated" not in result.stderr
    # The committed .mo says exactly what the .po says (compare catalogues, not bytes).
    fresh = subprocess.run(["msgfmt", "-o", "-", str(po)], capture_output=True, check=True).stdout
    assert _catalogue(fresh) == _catalogue(mo.read_bytes()), "the .mo is stale: run make messages"


def _catalogue(data: bytes) -> dict:
    import gettext
    import io

    return dict(gettext.GNUTranslations(io.BytesIO(data))._catalog)  # type: ignore[attr-defined]


def test_every_template_string_is_in_the_catalogue():
    """makemessages in dry form: every {% translate %} msgid in templates appears in the .po."""
    po_text = (ROOT / "locale/en/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    missing = []
    for template in (ROOT / "templates").rglob("*.html"):
        for msgid in re.findall(r'{%\s*translate\s+"([^"]+)"', template.read_text(encoding="utf-8")):
            if f'msgid "{msgid}"' not in po_text:
                missing.append(f"{template.relative_to(ROOT)}: {msgid}")
    assert missing == []


def test_compose_stack_has_every_service_with_health_checks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"migrate", "web", "worker", "beat", "postgres", "redis"}
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    for name in ("web", "worker", "beat", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert services["web"]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
