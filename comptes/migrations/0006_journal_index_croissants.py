"""The journal's B-tree indexes keep their ids ascending (comptes.models.JournalAudit).

The journal is written by every audited write and can be large: the new indexes are built CONCURRENTLY, under new
names, before the old ones are dropped CONCURRENTLY, so that writes are never blocked and no query goes without an
index meanwhile (hence a migration outside a transaction).
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("comptes", "0005_journal_index_allege"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="journalaudit",
            index=models.Index(fields=["table_nom", "id"], name="journal_table_id"),
        ),
        AddIndexConcurrently(
            model_name="journalaudit",
            index=models.Index(
                condition=models.Q(("demande_reference", ""), _negated=True),
                fields=["demande_reference", "id"],
                name="journal_demande_id",
            ),
        ),
        AddIndexConcurrently(
            model_name="journalaudit",
            index=models.Index(
                condition=models.Q(("utilisateur__isnull", False)),
                fields=["utilisateur", "id"],
                name="journal_utilisateur_id",
            ),
        ),
        RemoveIndexConcurrently(model_name="journalaudit", name="journalaudit_table"),
        RemoveIndexConcurrently(model_name="journalaudit", name="journalaudit_demande"),
        RemoveIndexConcurrently(model_name="journalaudit", name="journalaudit_utilisateur"),
    ]
