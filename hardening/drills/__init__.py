"""Fault and recovery drills (issue 9 "Faults" and "Recovery"; docs/reliability.md).

`make drills` = `python -m hardening.drills`: each drill runs on a private PostgreSQL and Redis (free
ports, a temporary directory) and asserts that every write the API acknowledged is in the database
afterwards and that the points ledger's invariants hold (manage.py points_verify).
"""
