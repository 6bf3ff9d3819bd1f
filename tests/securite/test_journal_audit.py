"""Issue 7: every write on requests, decisions and fiches leaves an append-only audit row (who, when, before/after),
written by PostgreSQL triggers that the application itself cannot bypass, update or delete."""

import pytest
from django.contrib.postgres.search import SearchVector
from django.db import DatabaseError, connection, transaction
from django.db.models import Value

from comptes import audit
from comptes.enums import OperationAudit
from comptes.models import JournalAudit
from demandes import services
from demandes.models import DemandeAAC
from referentiel.models import Specialite
from tests.conftest import connecter
from tests.factories import DemandeFactory, SpecialiteFactory, UtilisateurFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/demandes/"


def _derniere(table: str, objet_id, operation: str = OperationAudit.MODIFICATION) -> JournalAudit:
    return JournalAudit.objects.filter(table_nom=table, objet_id=str(objet_id), operation=operation).latest("id")


def test_une_modification_par_l_api_enregistre_avant_apres_l_auteur_et_l_identifiant_de_requete(client):
    demande = DemandeFactory()
    connecter(client, demande.prescripteur)
    reponse = client.patch(
        f"{URL}{demande.reference}/",
        {"version": demande.version, "posologie": "1 comprimé le soir"},
        content_type="application/json",
        headers={"X-Request-ID": "essai-audit-42"},
    )
    assert reponse.status_code == 200, reponse.content

    ligne = _derniere("demandes_demandeaac", demande.pk)
    assert ligne.avant["posologie"] == "2 comprimés par jour, matin et soir"
    assert ligne.apres["posologie"] == "1 comprimé le soir"
    assert ligne.apres["version"] == ligne.avant["version"] + 1
    assert set(ligne.colonnes) == {"modifiee_le", "posologie", "version"}
    assert ligne.utilisateur == demande.prescripteur
    assert ligne.requete_id == "essai-audit-42"
    assert ligne.demande_id == demande.pk and ligne.demande_reference == demande.reference
    assert ligne.role_base == connection.settings_dict["USER"]


def test_un_service_appele_hors_requete_est_attribue_a_l_acteur_declare():
    demande = DemandeFactory(en_evaluation=True)
    evaluateur = UtilisateurFactory(evaluateur=True)
    with audit.acteur(evaluateur):
        services.demande_refuser(
            demande=demande, par=evaluateur, version=demande.version, motif="donnees_insuffisantes"
        )
    decision = JournalAudit.objects.get(table_nom="demandes_decision", operation=OperationAudit.CREATION)
    assert decision.utilisateur == evaluateur
    assert decision.avant is None and decision.apres["sens"] == "refus"
    assert decision.demande_reference == demande.reference  # found from the decision's demande_id
    transition = JournalAudit.objects.get(table_nom="demandes_journaldemande", operation=OperationAudit.CREATION)
    assert transition.apres["transition"] == "refuser" and transition.utilisateur == evaluateur
    statut = _derniere("demandes_demandeaac", demande.pk)
    assert (statut.avant["statut"], statut.apres["statut"]) == ("en_evaluation", "refusee")


def test_sans_acteur_connu_la_ligne_n_a_pas_d_auteur():
    demande = DemandeFactory()
    DemandeAAC.objects.filter(pk=demande.pk).update(posologie="Une prise unique")
    ligne = _derniere("demandes_demandeaac", demande.pk)
    assert ligne.utilisateur is None and ligne.requete_id == ""
    assert ligne.colonnes == ["posologie"]


def test_r43_les_initiales_du_patient_n_entrent_jamais_dans_le_journal_d_audit():
    demande = DemandeFactory(patient_initiales="M.-A.")
    services.demande_modifier(
        demande=demande, par=demande.prescripteur, version=demande.version, donnees={"patient_initiales": "P.L."}
    )
    creation = _derniere("demandes_demandeaac", demande.pk, OperationAudit.CREATION)
    modification = _derniere("demandes_demandeaac", demande.pk)
    assert creation.apres["patient_initiales"] == audit.VALEUR_MASQUEE
    assert modification.avant["patient_initiales"] == modification.apres["patient_initiales"] == "[masqué]"
    assert "patient_initiales" in modification.colonnes  # the change itself is recorded
    with connection.cursor() as curseur:
        curseur.execute(
            "SELECT count(*) FROM comptes_journalaudit WHERE avant::text ~ 'P\\.L\\.|M\\.-A\\.' "
            "OR apres::text ~ 'P\\.L\\.|M\\.-A\\.'"
        )
        assert curseur.fetchone() == (0,)


def test_une_suppression_brute_d_une_demande_est_enregistree():
    demande = DemandeFactory(non_reference=True)
    reference = demande.reference
    with connection.cursor() as curseur:
        curseur.execute("DELETE FROM demandes_demandeaac WHERE id = %s", [demande.pk])
    ligne = _derniere("demandes_demandeaac", demande.pk, OperationAudit.SUPPRESSION)
    assert ligne.apres is None
    assert ligne.avant["reference"] == reference and ligne.avant["medicament_nom"] == "XB-4021"
    assert ligne.demande_reference == reference
    assert ligne.utilisateur is None and ligne.role_base == connection.settings_dict["USER"]


@pytest.mark.parametrize(
    "instruction",
    [
        "UPDATE comptes_journalaudit SET apres = '{}'::jsonb",
        "DELETE FROM comptes_journalaudit",
        "INSERT INTO comptes_journalaudit (table_nom, objet_id, operation) VALUES ('demandes_recours', '1', 'DELETE')",
    ],
    ids=["update", "delete", "insert_forge"],
)
def test_le_journal_d_audit_refuse_modification_suppression_et_ligne_forgee(instruction):
    DemandeFactory()
    avant = JournalAudit.objects.count()
    assert avant > 0
    with pytest.raises(DatabaseError, match="journal d'audit"), transaction.atomic(), connection.cursor() as c:
        c.execute(instruction)
    assert JournalAudit.objects.count() == avant


def test_l_orm_ne_peut_pas_non_plus_reecrire_le_journal():
    DemandeFactory()
    with pytest.raises(DatabaseError, match="ajout seul"), transaction.atomic():
        JournalAudit.objects.all().update(utilisateur=None)
    with pytest.raises(DatabaseError, match="ajout seul"), transaction.atomic():
        JournalAudit.objects.all().delete()


def test_une_ecriture_annulee_ne_laisse_aucune_ligne():
    demande = DemandeFactory()
    avant = JournalAudit.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        DemandeAAC.objects.filter(pk=demande.pk).update(posologie="jamais enregistré")
        raise RuntimeError("annulation")
    assert JournalAudit.objects.count() == avant


def test_les_colonnes_de_recherche_sont_exclues_et_leur_seul_recalcul_n_ecrit_rien():
    specialite = SpecialiteFactory(nom="Exemplumab 100 mg")
    document = SearchVector(Value("exemplumab recalcule"), config="french_unaccent")
    Specialite.objects.filter(pk=specialite.pk).update(document_recherche=document)
    assert not JournalAudit.objects.filter(
        table_nom="referentiel_specialite", operation=OperationAudit.MODIFICATION
    ).exists()
    Specialite.objects.filter(pk=specialite.pk).update(nom="Exemplumab 200 mg", document_recherche=None)
    ligne = _derniere("referentiel_specialite", specialite.pk)
    assert ligne.colonnes == ["nom"]
    assert "document_recherche" not in ligne.apres
    assert ligne.demande_reference == "" and ligne.demande_id is None


def test_chaque_table_declaree_a_ses_declencheurs_et_l_installation_est_idempotente():
    with connection.cursor() as curseur:
        # As if a migration had rebuilt the table without it.
        curseur.execute(f"DROP TRIGGER {audit.DECLENCHEURS['DELETE']} ON demandes_recours")
    installees = audit.installer()
    assert audit.installer() == installees
    with connection.cursor() as curseur:
        curseur.execute(
            "SELECT c.relname, array_agg(t.tgname::text ORDER BY t.tgname) FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname LIKE 'comptes\\_audit%%' GROUP BY c.relname"
        )
        declencheurs = dict(curseur.fetchall())
    assert set(declencheurs) == set(installees) == audit.tables_auditees()
    assert all(noms == sorted(audit.DECLENCHEURS.values()) for noms in declencheurs.values())
    assert "demandes_recours" in declencheurs


def test_une_ecriture_de_plusieurs_lignes_en_journalise_chacune_une_fois():
    """A statement-level trigger: one UPDATE of many rows gives one row per changed row, none for the unchanged."""
    specialites = SpecialiteFactory.create_batch(3)
    deja_nommee = specialites[0].nom
    Specialite.objects.filter(pk__in=[s.pk for s in specialites]).update(nom=deja_nommee)
    lignes = JournalAudit.objects.filter(table_nom="referentiel_specialite", operation=OperationAudit.MODIFICATION)
    assert sorted(int(ligne.objet_id) for ligne in lignes) == sorted(s.pk for s in specialites[1:])
    assert all(ligne.colonnes == ["nom"] and ligne.apres["nom"] == deja_nommee for ligne in lignes)
    Specialite.objects.filter(pk__in=[s.pk for s in specialites]).delete()
    supprimees = JournalAudit.objects.filter(table_nom="referentiel_specialite", operation=OperationAudit.SUPPRESSION)
    assert sorted(int(ligne.objet_id) for ligne in supprimees) == sorted(s.pk for s in specialites)


def test_une_cle_primaire_modifiee_garde_l_ancienne_et_la_nouvelle_image():
    specialite = SpecialiteFactory()
    with connection.cursor() as curseur:
        curseur.execute("UPDATE referentiel_specialite SET id = id + 100000 WHERE id = %s", [specialite.pk])
    lignes = JournalAudit.objects.filter(table_nom="referentiel_specialite", operation=OperationAudit.MODIFICATION)
    images = sorted((ligne.objet_id, ligne.avant is None, ligne.apres is None) for ligne in lignes)
    assert images == sorted([(str(specialite.pk), False, True), (str(specialite.pk + 100000), True, False)])


@pytest.mark.django_db(transaction=True)
def test_une_ecriture_hors_transaction_garde_son_auteur():
    """In autocommit, a transaction-local setting would be lost before the write: the wrapper opens one."""
    demande = DemandeFactory()
    administrateur = UtilisateurFactory(administrateur=True)
    assert connection.get_autocommit()
    with audit.acteur(administrateur):
        DemandeAAC.objects.filter(pk=demande.pk).update(posologie="Posologie corrigée")
    ligne = _derniere("demandes_demandeaac", demande.pk)
    assert ligne.utilisateur == administrateur
    # Nothing leaks to the next write: the setting lived only in that transaction.
    DemandeAAC.objects.filter(pk=demande.pk).update(posologie="Sans auteur")
    assert _derniere("demandes_demandeaac", demande.pk).utilisateur is None
