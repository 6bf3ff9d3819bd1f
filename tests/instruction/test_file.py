"""The ANSM review queue (/ansm/demandes/): what waits, in which order (urgences vitales first, then the oldest), its
tabs (R44 régularisations, R19 appeals), filters, the count waiting and the oldest's age, assignment (self and to a
colleague, journaled), and a query count that does not grow with the rows."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comptes.models import Notification
from demandes import services
from demandes.enums import StatutDemande, Urgence
from demandes.exceptions import ConflitEtat, DemandeError
from demandes.models import Recours
from tests.conftest import connecter
from tests.factories import DemandeFactory, IndicationFactory, UtilisateurFactory

from .conftest import html, sans_inline

pytestmark = pytest.mark.django_db

URL = "/ansm/demandes/"


def il_y_a(jours: int, heures: int = 0) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=jours, hours=heures)


def lignes(page: str) -> list[str]:
    """The references of the queue's rows, in order."""
    import re

    return re.findall(r'<tr id="ligne-([^"]+)">', page)


def test_la_file_montre_les_demandes_a_instruire_urgences_vitales_d_abord_puis_les_plus_anciennes(client_ansm):
    ancienne = DemandeFactory(en_evaluation=True, soumise_le=il_y_a(20))
    recente = DemandeFactory(complement_fourni=True, soumise_le=il_y_a(2))
    vitale_recente = DemandeFactory(en_evaluation=True, soumise_le=il_y_a(1), urgence=Urgence.VITALE)
    vitale_ancienne = DemandeFactory(en_evaluation=True, soumise_le=il_y_a(3), urgence=Urgence.VITALE)
    # Not in this tab: waiting for the PUI, not submitted, decided.
    attente_pui = DemandeFactory(complement_demande=True, soumise_le=il_y_a(40))
    DemandeFactory(transmise=True)
    DemandeFactory(octroyee=True)

    reponse = client_ansm.get(URL)
    page = html(reponse)
    assert reponse.status_code == 200
    sans_inline(page)
    assert lignes(page) == [
        vitale_ancienne.reference,
        vitale_recente.reference,
        ancienne.reference,
        recente.reference,
    ]
    # The count waiting and the oldest's age.
    assert '<p class="gestion-chiffre gestion-chiffre--alerte" id="nombre-en-attente">4</p>' in page
    soumise = timezone.localtime(ancienne.soumise_le)
    assert (
        f'<p class="fr-text--lg fr-mb-0" id="plus-ancienne">soumise le {soumise:%d/%m/%Y}, '
        "il y a 2 semaines, 6 jours</p>"
    ) in page
    assert '<a class="fr-btn fr-btn--sm" id="onglet-a_instruire" href="?onglet=a_instruire" aria-current="page">' in (
        page
    )
    assert "À instruire (4)" in page and "Complément attendu de la PUI (1)" in page
    # Each row links to the review page.
    assert f'<a href="/ansm/demandes/{ancienne.reference}/">{ancienne.reference}</a>' in page

    page = html(client_ansm.get(URL, {"onglet": "complement"}))
    assert lignes(page) == [attente_pui.reference]
    assert '<p class="gestion-chiffre gestion-chiffre--alerte" id="nombre-en-attente">1</p>' in page


def test_r44_et_r19_les_regularisations_et_les_recours_ont_leur_onglet(client_ansm):
    a_regulariser = DemandeFactory(octroyee=True, regularisation_a_posteriori=True, soumise_le=il_y_a(1))
    DemandeFactory(octroyee=True, regularisation_a_posteriori=True, regularisee_le=timezone.now())
    refusee = DemandeFactory(refusee=True)
    Recours.objects.create(
        demande=refusee, decision=refusee.decision, motif="Nouvel élément.", depose_par=refusee.prescripteur
    )
    deja_statue = DemandeFactory(refusee=True)
    Recours.objects.create(
        demande=deja_statue,
        decision=deja_statue.decision,
        motif="Nouvel élément.",
        depose_par=deja_statue.prescripteur,
        statut="rejete",
        reponse="Rien de nouveau.",
        repondu_le=timezone.now(),
    )

    page = html(client_ansm.get(URL, {"onglet": "regularisations"}))
    assert lignes(page) == [a_regulariser.reference]
    assert "À régulariser (R44)</p>" in page
    assert "Régularisations a posteriori (R44) (1)" in page and "Recours gracieux (R19) (1)" in page
    assert lignes(html(client_ansm.get(URL, {"onglet": "recours"}))) == [refusee.reference]


def test_les_filtres_specialite_urgence_anciennete_etablissement_et_assignation(client_ansm, evaluateur):
    indication = IndicationFactory()
    prescripteur = UtilisateurFactory(prescripteur=True)
    a = DemandeFactory(en_evaluation=True, indication=indication, soumise_le=il_y_a(40), evaluateur=evaluateur)
    b = DemandeFactory(en_evaluation=True, indication=indication, soumise_le=il_y_a(3), prescripteur=prescripteur)
    c = DemandeFactory(en_evaluation=True, soumise_le=il_y_a(10), urgence=Urgence.VITALE, prescripteur=prescripteur)
    d = DemandeFactory(en_evaluation=True, soumise_le=il_y_a(20), evaluateur=UtilisateurFactory(evaluateur=True))

    def filtrer(**params):
        return lignes(html(client_ansm.get(URL, params)))

    specialite = indication.acces.specialite
    assert filtrer(specialite=specialite.pk) == [a.reference, b.reference]
    assert filtrer(urgence="vitale") == [c.reference]
    assert filtrer(anciennete="15") == [a.reference, d.reference]
    assert filtrer(anciennete="30") == [a.reference]
    assert filtrer(etablissement=prescripteur.etablissement_id) == [c.reference, b.reference]
    assert filtrer(assignation="moi") == [a.reference]
    assert filtrer(assignation="personne") == [c.reference, b.reference]
    assert filtrer(q=d.reference) == [d.reference]
    # The spécialité filter offers the spécialités of the requests waiting, and keeps the choice.
    page = html(client_ansm.get(URL, {"specialite": specialite.pk}))
    assert f'<option value="{specialite.pk}" selected>{specialite.nom}</option>' in page


def test_m_assigner_depuis_la_file_journalise_l_assignation(client_ansm, evaluateur):
    demande = DemandeFactory(en_evaluation=True)
    page = html(client_ansm.get(URL))
    assert f'action="/ansm/demandes/{demande.reference}/assigner-a-moi/"' in page

    reponse = client_ansm.post(
        reverse("ansm:instruction_assigner_a_moi", args=[demande.reference]),
        {"version": demande.version, "suite": "?onglet=a_instruire"},
    )
    assert reponse.status_code == 302 and reponse.url == "/ansm/demandes/?onglet=a_instruire"
    demande.refresh_from_db()
    assert demande.evaluateur == evaluateur
    evenement = demande.journal.get(transition="assigner")
    assert (evenement.acteur, evenement.role) == (evaluateur, "evaluateur")
    assert (evenement.statut_avant, evenement.statut_apres) == (StatutDemande.EN_EVALUATION,) * 2
    assert evenement.details == {"evaluateur": evaluateur.pk, "precedent": None}
    assert evenement.commentaire == "Assignée à Sophie Leroy"
    # No email to oneself.
    assert not Notification.objects.filter(destinataire=evaluateur.email).exists()
    page = html(client_ansm.get(URL, {"assignation": "moi"}))
    assert lignes(page) == [demande.reference] and "<strong>Vous</strong>" in page


def test_deux_evaluateurs_qui_prennent_la_meme_demande_le_second_est_averti(client_ansm, evaluateur):
    demande = DemandeFactory(en_evaluation=True)
    collegue = UtilisateurFactory(evaluateur=True)
    version_vue = demande.version
    services.demande_assigner(demande=demande, evaluateur=collegue, par=collegue, version=version_vue)
    reponse = client_ansm.post(
        reverse("ansm:instruction_assigner_a_moi", args=[demande.reference]),
        {"version": version_vue, "suite": ""},
        follow=True,
    )
    assert "La demande a été modifiée entre-temps" in html(reponse)
    demande.refresh_from_db()
    assert demande.evaluateur == collegue
    assert demande.journal.filter(transition="assigner").count() == 1


def test_assigner_a_un_collegue_depuis_la_page_d_instruction_le_previent(client_ansm, evaluateur):
    demande = DemandeFactory(en_evaluation=True, evaluateur=evaluateur)
    collegue = UtilisateurFactory(evaluateur=True, prenom="Marc", nom="Petit")
    reponse = client_ansm.post(
        reverse("ansm:instruction_action", args=[demande.reference, "assigner"]),
        {"assigner-version": demande.version, "assigner-evaluateur": collegue.pk},
    )
    assert reponse.status_code == 302 and reponse.url == f"/ansm/demandes/{demande.reference}/"
    demande.refresh_from_db()
    assert demande.evaluateur == collegue
    evenement = demande.journal.get(transition="assigner")
    assert evenement.details == {"evaluateur": collegue.pk, "precedent": evaluateur.pk}
    courriel = Notification.objects.get(destinataire=collegue.email)
    assert courriel.sujet == f"Demande d'AAC {demande.reference} à instruire"
    assert f"https://referentiel-ad.example/ansm/demandes/{demande.reference}/" in courriel.corps
    assert demande.patient_initiales not in courriel.corps


def test_on_n_assigne_qu_a_un_evaluateur_en_activite(evaluateur):
    demande = DemandeFactory(en_evaluation=True)
    with pytest.raises(DemandeError, match="évaluateur de l'ANSM en activité"):
        services.demande_assigner(demande=demande, evaluateur=UtilisateurFactory(pharmacien=True), par=evaluateur)
    with pytest.raises(DemandeError, match="évaluateur de l'ANSM en activité"):
        services.demande_assigner(
            demande=demande, evaluateur=UtilisateurFactory(evaluateur=True, is_active=False), par=evaluateur
        )
    services.demande_assigner(demande=demande, evaluateur=evaluateur, par=evaluateur)
    with pytest.raises(ConflitEtat, match="déjà assignée"):
        services.demande_assigner(demande=demande, evaluateur=evaluateur, par=evaluateur)
    # An administrator assigns too (the workflow table's roles), a request before submission cannot be.
    administrateur = UtilisateurFactory(administrateur=True)
    services.demande_assigner(demande=demande, evaluateur=UtilisateurFactory(evaluateur=True), par=administrateur)
    assert demande.journal.filter(transition="assigner").count() == 2


def _peupler(nombre: int) -> None:
    for rang in range(nombre):
        DemandeFactory(
            en_evaluation=True,
            soumise_le=il_y_a(3 * rang + 8),
            urgence=Urgence.VITALE if rang % 3 == 0 else Urgence.NORMALE,
            evaluateur=UtilisateurFactory(evaluateur=True) if rang % 2 else None,
        )
    DemandeFactory(non_reference=True, en_evaluation=True, soumise_le=il_y_a(5))


def _requetes(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as requetes:
        reponse = client.get(url, params or {})
    assert reponse.status_code == 200
    return len(requetes)


@pytest.mark.parametrize("params", [{}, {"anciennete": "7", "assignation": "personne"}])
def test_le_nombre_de_requetes_de_la_file_ne_depend_pas_du_nombre_de_lignes(
    client_ansm, django_assert_num_queries, params
):
    _peupler(2)
    client_ansm.get(URL)  # sessions and the second factor's device are loaded once per test, as in production
    petit = _requetes(client_ansm, URL, params)
    _peupler(14)
    with django_assert_num_queries(petit):
        reponse = client_ansm.get(URL, params)
    assert len(lignes(html(reponse))) > 3


def test_le_nombre_de_requetes_de_la_file_est_fixe(client_ansm, django_assert_num_queries):
    _peupler(3)
    client_ansm.get(URL)
    # Session, user, OTP device; the tabs' counters (one query); the filters' choices (count and rows of the
    # spécialités, then of the établissements); the page's count and rows; the session saved (savepoint, update).
    with django_assert_num_queries(13):
        client_ansm.get(URL)
    _peupler(12)
    with django_assert_num_queries(13):
        client_ansm.get(URL)


@pytest.mark.parametrize("trait", ["prescripteur", "pharmacien", "laboratoire_role"])
@pytest.mark.parametrize(
    "url",
    [URL, "/ansm/statistiques/", "/ansm/statistiques/par-mois.csv"],
)
def test_les_autres_roles_recoivent_un_403(client, trait, url):
    DemandeFactory(en_evaluation=True)
    connecter(client, UtilisateurFactory(**{trait: True}))
    reponse = client.get(url)
    assert reponse.status_code == 403
    assert "<h1>Accès refusé</h1>" in reponse.content.decode()


def test_les_autres_roles_ne_peuvent_pas_s_assigner_une_demande(client):
    demande = DemandeFactory(en_evaluation=True)
    pharmacien = UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    connecter(client, pharmacien)
    reponse = client.post(
        reverse("ansm:instruction_assigner_a_moi", args=[demande.reference]), {"version": demande.version}
    )
    assert reponse.status_code == 403
    demande.refresh_from_db()
    assert demande.evaluateur is None and not demande.journal.filter(transition="assigner").exists()


def test_un_visiteur_anonyme_est_envoye_a_la_connexion(client):
    reponse = client.get(URL)
    assert reponse.status_code == 302 and reponse["Location"] == f"/comptes/connexion/?next={URL}"


def test_un_administrateur_voit_la_file_sans_bouton_m_assigner(client):
    demande = DemandeFactory(en_evaluation=True)
    connecter(client, UtilisateurFactory(administrateur=True))
    page = html(client.get(URL))
    assert lignes(page) == [demande.reference]
    assert "assigner-a-moi" not in page
