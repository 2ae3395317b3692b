"""Load scripts for issue 9 (docs/reliability-drills.md): `python -m hardening.load.redemption_day`."""
