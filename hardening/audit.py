"""`make audit`: known vulnerabilities in the locked dependencies (constraints.txt), with pip-audit.

constraints.txt pins every package, transitive ones included, so pip-audit reads it as it is
(`--no-deps --disable-pip`: nothing is resolved or installed) and asks a vulnerability service about
each pin — PyPI's (per-release JSON) first, then OSV's. Ends with one verdict line and its exit code:

    0  AUDIT OK: every pin audited, no known vulnerability
    1  AUDIT FAILED: known vulnerabilities (each listed with the versions that fix it)
    2  AUDIT INCOMPLETE: a service could not be reached or did not know some pins

pip-audit alone would say "No known vulnerabilities found" when it could audit nothing (each pin
skipped); here an unaudited pin is never taken for a clean one. `--allow-unaudited` turns verdict 2
into 0 (still printed as INCOMPLETE) for a machine known to have no vulnerability service: vulnerabilities
found on the pins that were audited still fail.

    python -m hardening.audit [--requirements constraints.txt] [--service pypi|osv|both]
                              [--allow-unaudited] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Finding:
    name: str
    version: str
    id: str
    fix_versions: list[str]
    aliases: list[str]


@dataclass
class Report:
    service: str
    audited: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    error: str = ""


def report_parse(service: str, data: dict) -> Report:
    """A Report from pip-audit's JSON output (`--format json`)."""
    report = Report(service=service)
    for dependency in data.get("dependencies", []):
        name = dependency["name"]
        if "skip_reason" in dependency:
            report.skipped[name] = dependency["skip_reason"]
            continue
        report.audited.append(name)
        for vuln in dependency.get("vulns", []):
            report.findings.append(
                Finding(
                    name=name,
                    version=dependency.get("version", ""),
                    id=vuln["id"],
                    fix_versions=list(vuln.get("fix_versions", [])),
                    aliases=list(vuln.get("aliases", [])),
                )
            )
    return report


def pip_audit_run(requirements: Path, service: str, timeout: float) -> Report:
    """Run pip-audit once against `requirements` with one vulnerability service."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "audit.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(requirements),
            "--no-deps",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--vulnerability-service",
            service,
            "--format",
            "json",
            "--output",
            str(output),
        ]
        try:
            result = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
                command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return Report(service=service, error=f"pip-audit did not finish in {timeout:.0f} s")
        if not output.exists():
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            return Report(service=service, error=f"pip-audit exited {result.returncode}: {last}")
        return report_parse(service, json.loads(output.read_text()))


def verdict(reports: list[Report], *, allow_unaudited: bool) -> tuple[int, list[str]]:
    """Exit code and the lines to print (the last is the one-line verdict), from one report per service
    tried: a pin counts as audited when any service audited it."""
    audited = {name for report in reports for name in report.audited}
    findings = {(f.name, f.id): f for report in reports for f in report.findings}
    all_names = audited | {name for report in reports for name in report.skipped}
    unaudited = sorted(all_names - audited)
    lines: list[str] = []
    for report in reports:
        lines.append(
            f"service {report.service}: {len(report.audited)} audited, {len(report.skipped)} not audited"
            + (f" ({report.error})" if report.error else "")
        )
    for finding in sorted(findings.values(), key=lambda f: (f.name, f.id)):
        fixes = ", ".join(finding.fix_versions) or "no fixed release yet"
        aliases = f" ({', '.join(finding.aliases)})" if finding.aliases else ""
        lines.append(f"VULNERABLE {finding.name}=={finding.version}: {finding.id}{aliases}; fixed in {fixes}")
    if unaudited:
        reason = next(
            (r.skipped[name] for r in reports for name in unaudited if name in r.skipped), "unknown"
        )
        lines.append(f"not audited ({len(unaudited)}): {', '.join(unaudited)} — e.g. {reason}")
    if findings:
        lines.append(f"AUDIT FAILED: {len(findings)} known vulnerabilities in {len(audited)} audited pins")
        return 1, lines
    if not audited:
        lines.append(
            f"AUDIT INCOMPLETE: none of {len(all_names)} pins could be audited "
            "(no vulnerability service answered)"
        )
        return (0 if allow_unaudited else 2), lines
    if unaudited:
        lines.append(
            f"AUDIT INCOMPLETE: {len(audited)} of {len(all_names)} pins audited, no known vulnerability in "
            f"those; {len(unaudited)} could not be audited"
        )
        return (0 if allow_unaudited else 2), lines
    lines.append(f"AUDIT OK: {len(audited)} pins audited, no known vulnerability")
    return 0, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardening.audit", description=__doc__.split("\n")[0])
    parser.add_argument("--requirements", type=Path, default=ROOT / "constraints.txt")
    parser.add_argument("--service", choices=["pypi", "osv", "both"], default="both")
    parser.add_argument("--allow-unaudited", action="store_true")
    parser.add_argument("--timeout", type=float, default=600)
    options = parser.parse_args(argv)
    started = time.monotonic()
    services = ["pypi", "osv"] if options.service == "both" else [options.service]
    reports: list[Report] = []
    for service in services:
        report = pip_audit_run(options.requirements, service, options.timeout)
        reports.append(report)
        if not report.error and not report.skipped:
            break  # everything audited: the second service would add nothing
    code, lines = verdict(reports, allow_unaudited=options.allow_unaudited)
    lines.insert(-1, f"took {time.monotonic() - started:.1f} s for {options.requirements.name}")
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
