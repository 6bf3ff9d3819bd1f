"""Writes on the référentiel. Every change to a fiche goes through a service that records who did what."""

from collections.abc import Iterable

from django.db import connection

# Search document of a spécialité: name and DCI weigh most, then indications, then laboratories (R3).
# Built in SQL for a whole batch of ids at once, so that imports and seeds stay linear.
_SQL_INDEXER = """
WITH cibles AS (SELECT unnest(%(ids)s::bigint[]) AS id),
dci AS (
    SELECT c.specialite_id AS id, string_agg(s.dci, ' ') AS texte
    FROM referentiel_composition c JOIN referentiel_substance s ON s.id = c.substance_id
    WHERE c.specialite_id IN (SELECT id FROM cibles) GROUP BY c.specialite_id
),
ind AS (
    SELECT a.specialite_id AS id, string_agg(i.libelle || ' ' || i.patients_eligibles, ' ') AS texte
    FROM referentiel_accesderogatoire a JOIN referentiel_indication i ON i.acces_id = a.id
    WHERE a.specialite_id IN (SELECT id FROM cibles) GROUP BY a.specialite_id
)
UPDATE referentiel_specialite sp SET
    document_recherche =
        setweight(to_tsvector('french_unaccent', sp.nom), 'A')
        || setweight(to_tsvector('french_unaccent', coalesce(dci.texte, '')), 'A')
        || setweight(to_tsvector('french_unaccent', coalesce(ind.texte, '')), 'B')
        || setweight(to_tsvector('french_unaccent', coalesce(tit.nom, '') || ' ' || coalesce(exp.nom, '')), 'C'),
    texte_recherche = lower(immutable_unaccent(
        sp.nom || ' ' || coalesce(dci.texte, '') || ' ' || coalesce(tit.nom, '') || ' ' || coalesce(exp.nom, '')
    ))
FROM referentiel_specialite base
LEFT JOIN dci ON dci.id = base.id
LEFT JOIN ind ON ind.id = base.id
LEFT JOIN referentiel_laboratoire tit ON tit.id = base.titulaire_id
LEFT JOIN referentiel_laboratoire exp ON exp.id = base.exploitant_id
WHERE sp.id = base.id AND base.id IN (SELECT id FROM cibles)
"""


def specialites_indexer(*, ids: Iterable[int]) -> None:
    """Recompute the full-text document and the trigram text of these spécialités (one statement per batch)."""
    ids = list(ids)
    for debut in range(0, len(ids), 5000):
        with connection.cursor() as cursor:
            cursor.execute(_SQL_INDEXER, {"ids": ids[debut : debut + 5000]})
