"""Hardening (issue 9): fuzzing, fault drills, load, dependency audit — see docs/reliability.md."""
