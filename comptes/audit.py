"""The append-only audit trail: PostgreSQL triggers record every write on requests, decisions and fiches.

Why triggers rather than Django signals: a signal misses `QuerySet.update()`, bulk writes, cascades and anything
done outside Django (psql, a script); a trigger sees every row, in the same transaction as the write, so a
rolled-back write leaves no audit row and a committed one always has its row.

- `installer()` (re)creates, idempotently, the trigger function, the guard that makes `comptes_journalaudit`
  append-only, and three AFTER INSERT / UPDATE / DELETE triggers per table of `MODELES_AUDITES`, FOR EACH
  STATEMENT with transition tables: each journals every row its statement wrote, one journal row per row, in one
  INSERT ... SELECT (a bulk write costs one call, not one per row). It runs after every `migrate` (post_migrate,
  see comptes.apps), so tables added or changed by other apps' migrations, and every new test database, get their
  triggers without anyone writing a migration for it.
- Who and which request: before each write on an audited table, `enveloppe_execution` (a Django execute wrapper
  installed on every connection) sets the transaction-local settings `app.utilisateur_id` and `app.request_id`
  with `set_config(…, true)`, which the trigger reads. Transaction-local, so a value can never leak into another
  request through a persistent connection or a transaction-pooling proxy. A write outside any transaction is
  wrapped in one for that purpose.
- The actor is, in order: the one set with `with audit.acteur(utilisateur):` (Celery tasks and management
  commands acting for someone), else the logged-in user of the HTTP request being served. The request id is the
  one of config.logging (`X-Request-ID`, or `tache-<id>` in a Celery task, which inherits the id of the request
  that enqueued it). Nothing set: the row has no actor, and `role_base` still names the PostgreSQL role.

The application's database role should not own the tables in production (docs/production.md): it then cannot
drop or disable these triggers, and the guard below refuses UPDATE, DELETE and forged INSERTs whatever the role.
"""

import re
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from django.apps import apps
from django.contrib.postgres.search import SearchVectorField
from django.db import connections, transaction

from config.logging import ID_REQUETE

# The tables whose every write is recorded (the request workflow and the référentiel's fiches), with their label.
MODELES_AUDITES = {
    "demandes.DemandeAAC": "Demandes d'AAC",
    "demandes.Decision": "Décisions",
    "demandes.JournalDemande": "Journal des demandes",
    "demandes.AttestationCritere": "Attestations de critères",
    "demandes.Complement": "Demandes de complément",
    "demandes.Recours": "Recours gracieux",
    "demandes.PieceJointe": "Pièces jointes",
    "referentiel.Specialite": "Spécialités",
    "referentiel.AccesDerogatoire": "Accès dérogatoires",
    "referentiel.Indication": "Indications",
    "referentiel.CritereOctroi": "Critères d'octroi",
    "referentiel.PUT": "Protocoles d'utilisation thérapeutique",
    "referentiel.Document": "Documents",
    "referentiel.RapportPeriodique": "Rapports périodiques de synthèse",
}
# Derived search data, rebuilt from the other columns: left out of the JSON (and a change to them alone is not a
# write worth a row). Any SearchVectorField is left out too.
COLONNES_EXCLUES = frozenset({"document_recherche"})
# Direct identifiers: the trail records that they changed, never their value, so that pseudonymising the request
# at the end of the retention period (comptes.retention) is not undone by its own history.
COLONNES_MASQUEES = {
    "demandes.DemandeAAC": ("patient_initiales",),
    "demandes.PieceJointe": ("nom",),
}
VALEUR_MASQUEE = "[masqué]"
NOM_DECLENCHEUR = "comptes_audit"


def _table_audit() -> str:
    return apps.get_model("comptes", "JournalAudit")._meta.db_table


def _table_demandes() -> str:
    return apps.get_model("demandes", "DemandeAAC")._meta.db_table


# One statement-level trigger per operation (PostgreSQL gives transition tables to single-event triggers only): a
# statement that writes 15,000 rows (the BDPM import, a re-indexing) runs the function once and journals its rows
# with one INSERT ... SELECT, instead of 15,000 function calls.
DECLENCHEURS = {
    "INSERT": f"{NOM_DECLENCHEUR}_ajout",
    "UPDATE": f"{NOM_DECLENCHEUR}_modification",
    "DELETE": f"{NOM_DECLENCHEUR}_suppression",
}
_TRANSITIONS = {
    "INSERT": "REFERENCING NEW TABLE AS nouvelles",
    "UPDATE": "REFERENCING OLD TABLE AS anciennes NEW TABLE AS nouvelles",
    "DELETE": "REFERENCING OLD TABLE AS anciennes",
}
# What each operation journals, one (avant, apres, colonnes) row per row written, each computed once (MATERIALIZED:
# else the planner rebuilds a row's JSON at every reference to it). An UPDATE pairs its before and after images by
# primary key; a row whose key itself changed is journalled as its old image and its new image (nothing is lost),
# and a row whose only change is in excluded columns (or none) is not journalled.
_SOURCES = {
    "INSERT": "SELECT NULL::jsonb AS avant, to_jsonb(n) - exclues AS apres, '{}'::text[] AS colonnes FROM nouvelles n",
    "DELETE": "SELECT to_jsonb(a) - exclues AS avant, NULL::jsonb AS apres, '{}'::text[] AS colonnes FROM anciennes a",
    "UPDATE": """
        WITH a AS MATERIALIZED (SELECT to_jsonb(x) - exclues AS ligne FROM anciennes x),
             n AS MATERIALIZED (SELECT to_jsonb(x) - exclues AS ligne FROM nouvelles x)
        SELECT a.ligne AS avant, n.ligne AS apres, c.colonnes
          FROM a FULL JOIN n ON n.ligne -> cle_primaire = a.ligne -> cle_primaire
         CROSS JOIN LATERAL (
            SELECT array_agg(v.cle ORDER BY v.cle) AS colonnes
              FROM jsonb_each(coalesce(n.ligne, a.ligne)) AS v(cle, valeur)
             WHERE a.ligne IS NULL OR n.ligne IS NULL OR v.valeur IS DISTINCT FROM a.ligne -> v.cle
         ) c
         WHERE c.colonnes IS NOT NULL""",
}


def _sql_fonctions() -> str:
    journal, demandes = _table_audit(), _table_demandes()
    ligne = "coalesce(e.apres, e.avant)"
    branches = "\n    ELS".join(
        f"""IF TG_OP = '{operation}' THEN
        WITH e AS MATERIALIZED ({source})
        INSERT INTO {journal} (le, table_nom, objet_id, operation, avant, apres, colonnes, utilisateur_id,
                               requete_id, role_base, demande_id, demande_reference)
        SELECT now(), TG_TABLE_NAME, coalesce({ligne} ->> cle_primaire, ''), TG_OP,
               CASE WHEN masquees = '{{}}' THEN e.avant ELSE comptes_audit_masquer(e.avant, masquees) END,
               CASE WHEN masquees = '{{}}' THEN e.apres ELSE comptes_audit_masquer(e.apres, masquees) END,
               e.colonnes,
               utilisateur, requete, session_user,
               CASE WHEN lien <> '' THEN ({ligne} ->> lien)::bigint END,
               CASE WHEN lien = '' THEN ''
                    WHEN TG_TABLE_NAME = '{demandes}' THEN coalesce({ligne} ->> 'reference', '')
                    ELSE coalesce((SELECT d.reference FROM {demandes} d WHERE d.id = ({ligne} ->> lien)::bigint), '')
               END
          FROM e;"""  # noqa: S608 - table names from model metadata, no input
        for operation, source in _SOURCES.items()
    )
    # Arguments of the trigger: the column holding the request's id ('' outside the workflow), the excluded
    # columns, the masked columns (comma-separated) and the primary key column.
    return f"""
CREATE OR REPLACE FUNCTION comptes_audit_masquer(valeurs jsonb, masquees text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fonction$
    SELECT CASE WHEN valeurs IS NULL THEN valeurs
                ELSE valeurs || coalesce(
                    (SELECT jsonb_object_agg(c, to_jsonb('{VALEUR_MASQUEE}'::text)) FROM unnest(masquees) AS c
                      WHERE coalesce(valeurs ->> c, '') <> ''), '{{}}'::jsonb)
           END
$fonction$;

CREATE OR REPLACE FUNCTION comptes_audit_ecrire() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $fonction$
DECLARE
    lien text := TG_ARGV[0];
    exclues text[] := string_to_array(TG_ARGV[1], ',');
    masquees text[] := string_to_array(TG_ARGV[2], ',');
    cle_primaire text := TG_ARGV[3];
    utilisateur bigint := NULLIF(current_setting('app.utilisateur_id', true), '')::bigint;
    requete text := coalesce(current_setting('app.request_id', true), '');
BEGIN
    {branches}
    END IF;
    RETURN NULL;
END;
$fonction$;

CREATE OR REPLACE FUNCTION comptes_journalaudit_ajout_seul() RETURNS trigger
LANGUAGE plpgsql AS $fonction$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- Depth 1 is a statement sent by a client; the audit triggers insert at depth 2.
        IF pg_trigger_depth() < 2 THEN
            RAISE EXCEPTION 'Le journal d''audit n''est écrit que par ses déclencheurs.'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'Le journal d''audit est en ajout seul : % interdit.', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$fonction$;

-- An INSERT is checked once per statement (a trigger's INSERT ... SELECT may hold thousands of rows); UPDATE and
-- DELETE once per row they would touch.
DROP TRIGGER IF EXISTS comptes_journalaudit_ajout_seul ON {journal};
CREATE OR REPLACE TRIGGER comptes_journalaudit_ajout_seul
    BEFORE INSERT ON {journal}
    FOR EACH STATEMENT EXECUTE FUNCTION comptes_journalaudit_ajout_seul();
CREATE OR REPLACE TRIGGER comptes_journalaudit_fige
    BEFORE UPDATE OR DELETE ON {journal}
    FOR EACH ROW EXECUTE FUNCTION comptes_journalaudit_ajout_seul();

-- TRUNCATE stays possible for the owner (test databases are flushed with it); the application's role gets no
-- TRUNCATE in production (docs/production.md).
REVOKE UPDATE, DELETE, TRUNCATE ON {journal} FROM PUBLIC;
"""  # noqa: S608 - table names from model metadata, no input


def _litteral(texte: str) -> str:
    """A SQL string literal of an identifier list (identifiers come from model metadata, never from input)."""
    return "'" + texte.replace("'", "''") + "'"


def _arguments(modele) -> tuple[str, str, str, str]:
    champs = modele._meta.concrete_fields
    exclues = sorted(f.column for f in champs if f.column in COLONNES_EXCLUES or isinstance(f, SearchVectorField))
    masquees = sorted(modele._meta.get_field(nom).column for nom in COLONNES_MASQUEES.get(modele._meta.label, ()))
    lien = ""
    if modele._meta.label == "demandes.DemandeAAC":
        lien = modele._meta.pk.column
    else:
        for f in champs:
            if f.is_relation and f.related_model is not None and f.related_model._meta.label == "demandes.DemandeAAC":
                lien = f.column
                break
    return lien, ",".join(exclues), ",".join(masquees), modele._meta.pk.column


def installer(*, using: str = "default") -> list[str]:
    """Create or replace the audit functions and triggers; returns the audited tables found in the database.

    Idempotent (CREATE OR REPLACE), cheap, run after every migrate. Tables not yet created are skipped: the
    post_migrate run at the end of the same `migrate` installs them.
    """
    connexion = connections[using]
    with transaction.atomic(using=using), connexion.cursor() as curseur:
        existantes = set(connexion.introspection.table_names(curseur))
        if _table_audit() not in existantes:
            return []
        curseur.execute(_sql_fonctions())
        installees = []
        for label in MODELES_AUDITES:
            modele = apps.get_model(label)
            table = modele._meta.db_table
            if table not in existantes:
                continue
            arguments = ", ".join(_litteral(a) for a in _arguments(modele))
            nom_table = connexion.ops.quote_name(table)
            # The row-level trigger of earlier versions, replaced by the three below.
            curseur.execute(f"DROP TRIGGER IF EXISTS {NOM_DECLENCHEUR} ON {nom_table}")
            for operation, nom in DECLENCHEURS.items():
                curseur.execute(
                    f"CREATE OR REPLACE TRIGGER {nom} AFTER {operation} ON {nom_table} {_TRANSITIONS[operation]} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION comptes_audit_ecrire({arguments})"
                )
            installees.append(table)
    return installees


# --- Who did it: the transaction-local settings read by the trigger ----------------------------------------------

# The HTTP request being served (set by config.middleware.RequestIdMiddleware), to find its logged-in user.
REQUETE_COURANTE: ContextVar = ContextVar("audit_requete_courante", default=None)
# An explicit actor (a user id) for work done on someone's behalf outside a request; 0 means "nobody".
_ACTEUR: ContextVar[int | None] = ContextVar("audit_acteur", default=None)

_ECRITURE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z0-9_]+)"?', re.IGNORECASE)


@contextmanager
def acteur(utilisateur):
    """Attribute the audited writes of this block to `utilisateur` (None: to nobody), e.g. in a Celery task:

    with audit.acteur(Utilisateur.objects.get(pk=utilisateur_id)):
        services.demande_expirer(demande=demande)
    """
    jeton = _ACTEUR.set(utilisateur.pk if utilisateur is not None else 0)
    try:
        yield
    finally:
        _ACTEUR.reset(jeton)


def contexte_courant() -> tuple[str, str]:
    """(user id, request id) as the trigger will read them; '' when unknown."""
    utilisateur_id = _ACTEUR.get()
    if utilisateur_id is None:
        requete = REQUETE_COURANTE.get()
        utilisateur = getattr(requete, "user", None) if requete is not None else None
        utilisateur_id = utilisateur.pk if utilisateur is not None and utilisateur.is_authenticated else 0
    requete_id = ID_REQUETE.get()
    return (str(utilisateur_id) if utilisateur_id else "", "" if requete_id == "-" else requete_id)


@cache
def tables_auditees() -> frozenset[str]:
    return frozenset(apps.get_model(label)._meta.db_table for label in MODELES_AUDITES)


def _appliquer(connexion, valeurs: tuple[str, str]) -> None:
    # On the raw connection: not a query of the application (query-count tests do not see it), but errors are
    # still turned into Django's (a database outage must reach the 503 middleware as an OperationalError).
    with connexion.wrap_database_errors, connexion.connection.cursor() as curseur:
        curseur.execute(
            "SELECT set_config('app.utilisateur_id', %s, true), set_config('app.request_id', %s, true)",
            list(valeurs),
        )


def contexte_appliquer(*, using: str = "default") -> None:
    """Tell PostgreSQL who writes, for the rest of the current transaction: for writes the execute wrapper does
    not see (COPY, as the BDPM import does). Must run inside a transaction (transaction-local settings)."""
    connexion = connections[using]
    if connexion.get_autocommit():
        raise RuntimeError("contexte_appliquer() hors transaction : le réglage serait perdu avant l'écriture.")
    connexion.ensure_connection()
    _appliquer(connexion, contexte_courant())


def enveloppe_execution(execute, sql, params, many, context):
    """Execute wrapper: before a write on an audited table, tell PostgreSQL who writes, for this transaction."""
    correspondance = _ECRITURE.match(sql) if isinstance(sql, str) else None
    if correspondance is None or correspondance.group(1) not in tables_auditees():
        return execute(sql, params, many, context)
    connexion = context["connection"]
    valeurs = contexte_courant()
    if not connexion.get_autocommit():
        _appliquer(connexion, valeurs)
        return execute(sql, params, many, context)
    # Autocommit: a transaction-local setting would vanish before the write; give the write its own transaction.
    with transaction.atomic(using=connexion.alias):
        _appliquer(connexion, valeurs)
        return execute(sql, params, many, context)


def installer_enveloppe(sender, connection, **kwargs) -> None:
    """connection_created receiver (comptes.apps): every PostgreSQL connection carries the execute wrapper.

    Inserted first, not appended: `connection.execute_wrapper()` blocks pop the last wrapper when they end, and a
    connection opened inside such a block must not have ours popped in its place.
    """
    if connection.vendor == "postgresql" and enveloppe_execution not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, enveloppe_execution)
