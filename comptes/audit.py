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


def _sql_fonctions() -> str:
    """What every audited table shares: the masking of identifiers and the guard of the journal."""
    journal = _table_audit()
    return f"""
CREATE OR REPLACE FUNCTION comptes_audit_masquer(valeurs jsonb, masquees text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fonction$
    SELECT CASE WHEN valeurs IS NULL THEN valeurs
                ELSE valeurs || coalesce(
                    (SELECT jsonb_object_agg(c, to_jsonb('{VALEUR_MASQUEE}'::text)) FROM unnest(masquees) AS c
                      WHERE coalesce(valeurs ->> c, '') <> ''), '{{}}'::jsonb)
           END
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
    """A SQL string literal (of identifiers from model metadata, never of input)."""
    return "'" + texte.replace("'", "''") + "'"


def _nom_fonction(table: str) -> str:
    return f"comptes_audit_{table}"


def _sql_fonction_table(modele, quote) -> str:
    """The trigger function of one audited table, written for its columns (model metadata).

    Each operation journals one (before, after, changed columns) row per row written. The images are the JSON of
    the row's columns, the excluded ones left out by naming the others (not by removing keys from a whole-row
    JSON: one copy of each image less), the masked ones replaced (R43). An INSERT or a DELETE reads each image once,
    the row's key and request link straight from its columns. An UPDATE pairs its before and after images by primary
    key, each computed once (MATERIALIZED: else the planner rebuilds a row's JSON at every reference to it); a row
    whose key itself changed is journalled as its old image and its new image (nothing is lost), and a row whose
    only change is in excluded columns (or none) is not journalled."""
    journal, demandes = _table_audit(), _table_demandes()
    table = modele._meta.db_table
    champs = modele._meta.concrete_fields
    colonnes = [f.column for f in champs if f.column not in COLONNES_EXCLUES and not isinstance(f, SearchVectorField)]
    masquees = sorted(modele._meta.get_field(nom).column for nom in COLONNES_MASQUEES.get(modele._meta.label, ()))
    cle = modele._meta.pk.column
    lien = ""
    if modele._meta.label == "demandes.DemandeAAC":
        lien = cle
    else:
        for f in champs:
            if f.is_relation and f.related_model is not None and f.related_model._meta.label == "demandes.DemandeAAC":
                lien = f.column
                break

    def masquer(json: str) -> str:
        if not masquees:
            return json
        return f"comptes_audit_masquer({json}, ARRAY[{', '.join(_litteral(c) for c in masquees)}]::text[])"

    def image(alias: str) -> tuple[str, str]:
        """(FROM clause to add, JSON expression) of the image of the transition table's row `alias`: a LATERAL
        projection that PostgreSQL flattens, so that to_jsonb reads the named columns of the row itself."""
        projection = ", ".join(f"{alias}.{quote(c)}" for c in colonnes)
        return f"CROSS JOIN LATERAL (SELECT {projection}) AS image_{alias}", f"to_jsonb(image_{alias})"

    def demande(valeur) -> tuple[str, str]:
        """(demande_id, demande_reference) of a row whose column `c` of SQL type `t` reads as valeur(c, t): a
        column of the transition table's row, or a key of its image."""
        if not lien:
            return "NULL", "''"
        identifiant = valeur(lien, "bigint")
        if table == demandes:
            return identifiant, f"coalesce({valeur('reference', 'text')}, '')"
        sous_requete = f"SELECT d.reference FROM {demandes} d WHERE d.id = {identifiant}"  # noqa: S608
        return identifiant, f"coalesce(({sous_requete}), '')"

    colonnes_journal = (
        "le, table_nom, objet_id, operation, avant, apres, colonnes, utilisateur_id, requete_id, role_base, "
        "demande_id, demande_reference"
    )
    branches = {}
    for operation, alias, transition in (("INSERT", "n", "nouvelles"), ("DELETE", "a", "anciennes")):
        jointure, json = image(alias)
        json = masquer(json)
        identifiant, reference = demande(lambda colonne, _type, alias=alias: f"{alias}.{quote(colonne)}")
        avant, apres = ("NULL", json) if operation == "INSERT" else (json, "NULL")
        branches[operation] = f"""
        INSERT INTO {journal} ({colonnes_journal})
        SELECT now(), TG_TABLE_NAME, {alias}.{quote(cle)}::text, TG_OP, {avant}, {apres}, '{{}}'::text[],
               utilisateur, requete, session_user, {identifiant}, {reference}
          FROM {transition} {alias} {jointure};"""  # noqa: S608
    # The UPDATE's rows are read back from their images (the join pairs them by key).
    ligne = "coalesce(e.apres, e.avant)"
    identifiant, reference = demande(lambda colonne, type_sql: f"({ligne} ->> {_litteral(colonne)})::{type_sql}")
    # The images are compared as they are (a change of a masked column is a change), then masked.
    jointure, json = image("x")
    branches["UPDATE"] = f"""
        WITH a AS MATERIALIZED (SELECT {json} AS ligne FROM anciennes x {jointure}),
             n AS MATERIALIZED (SELECT {json} AS ligne FROM nouvelles x {jointure}),
             e AS (
                SELECT a.ligne AS avant, n.ligne AS apres, c.colonnes
                  FROM a FULL JOIN n ON n.ligne -> {_litteral(cle)} = a.ligne -> {_litteral(cle)}
                 CROSS JOIN LATERAL (
                    SELECT array_agg(v.cle ORDER BY v.cle) AS colonnes
                      FROM jsonb_each(coalesce(n.ligne, a.ligne)) AS v(cle, valeur)
                     WHERE a.ligne IS NULL OR n.ligne IS NULL OR v.valeur IS DISTINCT FROM a.ligne -> v.cle
                 ) c
                 WHERE c.colonnes IS NOT NULL
             )
        INSERT INTO {journal} ({colonnes_journal})
        SELECT now(), TG_TABLE_NAME, coalesce({ligne} ->> {_litteral(cle)}, ''), TG_OP,
               {masquer("e.avant")}, {masquer("e.apres")}, e.colonnes,
               utilisateur, requete, session_user, {identifiant}, {reference}
          FROM e;"""  # noqa: S608
    corps = "\n    ELS".join(f"IF TG_OP = '{operation}' THEN{sql}" for operation, sql in branches.items())
    return f"""
CREATE OR REPLACE FUNCTION {_nom_fonction(table)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $fonction$
DECLARE
    utilisateur bigint := NULLIF(current_setting('app.utilisateur_id', true), '')::bigint;
    requete text := coalesce(current_setting('app.request_id', true), '');
BEGIN
    {corps}
    END IF;
    RETURN NULL;
END;
$fonction$;
"""  # noqa: S608 - table and column names from model metadata, no input


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
            nom_table = connexion.ops.quote_name(table)
            curseur.execute(_sql_fonction_table(modele, connexion.ops.quote_name))
            # The row-level trigger of earlier versions, replaced by the three below.
            curseur.execute(f"DROP TRIGGER IF EXISTS {NOM_DECLENCHEUR} ON {nom_table}")
            for operation, nom in DECLENCHEURS.items():
                curseur.execute(
                    f"CREATE OR REPLACE TRIGGER {nom} AFTER {operation} ON {nom_table} {_TRANSITIONS[operation]} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {_nom_fonction(table)}()"
                )
            installees.append(table)
        # The function all tables shared in earlier versions (with the triggers of a table no longer audited).
        curseur.execute("DROP FUNCTION IF EXISTS comptes_audit_ecrire() CASCADE")
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
