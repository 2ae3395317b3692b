"""System accounts (issuance, store sinks, expiry) stop keeping a stored balance: every award locked its
township's issuance row and every receipt its store's sink row until COMMIT, serialising them. Their
balance is now the sum of their postings; the column is set to 0 and pinned there by a CHECK. Reversing
recomputes the stored figure from the postings."""

from django.db import migrations, models

FORWARD = "UPDATE points_account SET balance = 0 WHERE kind <> 'household'"
BACKWARD = (
    "UPDATE points_account SET balance = COALESCE("
    "(SELECT SUM(p.amount) FROM points_posting p WHERE p.account_id = points_account.id), 0) "
    "WHERE kind <> 'household'"
)


class Migration(migrations.Migration):
    dependencies = [("points", "0002_ledger_invariants")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind", "household"), ("balance", 0), _connector="OR"),
                name="points_account_system_no_stored_balance",
            ),
        ),
    ]
