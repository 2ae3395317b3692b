"""Load scripts for issue 9 (docs/reliability.md): `python -m hardening.load.redemption_day`."""
