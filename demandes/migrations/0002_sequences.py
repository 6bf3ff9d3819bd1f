from django.db import migrations

# Human-readable numbers ("D-2026-000123", "AAC-2026-000123") come from PostgreSQL sequences: unique and free of
# races between concurrent transactions, without a counter row that every filing would lock.
SEQUENCES = ("demandes_reference_seq", "demandes_decision_seq", "demandes_numero_aac_seq")


class Migration(migrations.Migration):
    dependencies = [("demandes", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "".join(f"CREATE SEQUENCE IF NOT EXISTS {nom};" for nom in SEQUENCES),
            reverse_sql="".join(f"DROP SEQUENCE IF EXISTS {nom};" for nom in SEQUENCES),
        )
    ]
