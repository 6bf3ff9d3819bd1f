"""The évaluateur's review page of one request: the patient's situation, the fiche's critères d'octroi next to the
prescriber's answers (R11), the justification, the history of requests for the same medicine (no other patient
beyond what the ANSM may read), the actions through the same services as everywhere, and the preview of the decision
PDF drawn by pdf.py without saving anything."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from demandes.enums import CanalAcces, MotifRefus, SensDecision, StatutDemande
from demandes.models import AccesDonneesPatient, Decision
from tests.conftest import connecter
from tests.factories import CritereFactory, DecisionFactory, DemandeFactory, UtilisateurFactory

from .conftest import html, sans_inline, texte_pdf

pytestmark = pytest.mark.django_db


def url(demande) -> str:
    return f"/ansm/demandes/{demande.reference}/"


def _sequence(nom: str) -> int:
    with connection.cursor() as curseur:
        curseur.execute(f"SELECT last_value, is_called FROM {nom}")  # noqa: S608 - a fixed sequence name
        valeur, appelee = curseur.fetchone()
    return valeur if appelee else valeur - 1


@pytest.fixture
def demande(db):
    """A referenced indication whose second criterion is answered "no", hence a justification (R11)."""
    demande = DemandeFactory(
        en_evaluation=True,
        criteres=[True, False],
        justification="Une seule ligne antérieure ; aucune alternative appropriée.",
        patient_initiales="L.-A.",
        patient_age=9,
        patient_poids_kg=27,
    )
    # A criterion added to the fiche after the request was filed: not attested.
    dernier = max(c.ordre for c in demande.indication.criteres.all())
    CritereFactory(indication=demande.indication, libelle="Absence d'insuffisance hépatique sévère", ordre=dernier + 1)
    return demande


def test_la_page_montre_la_situation_les_criteres_cote_a_cote_et_la_justification(client_ansm, demande):
    reponse = client_ansm.get(url(demande))
    page = html(reponse)
    assert reponse.status_code == 200
    sans_inline(page)
    assert '<span class="fr-badge fr-badge--new" id="statut-demande">En évaluation à l&#x27;ANSM</span>' in page
    assert "<dt>Initiales</dt><dd>L.-A.</dd>" in page
    assert "<dt>Âge</dt><dd>9 ans</dd>" in page and "<dt>Poids</dt><dd>27,0 kg</dd>" in page
    assert f"<dt>Indication</dt><dd>{escape(demande.indication.libelle)}</dd>" in page
    premier, second = demande.indication.criteres.order_by("ordre", "id")[:2]
    assert (
        f'<tr><td>{premier.libelle}</td><td><p class="fr-badge fr-badge--sm fr-badge--success">Oui</p></td></tr>'
        f'<tr><td>{second.libelle}</td><td><p class="fr-badge fr-badge--sm fr-badge--error">Non</p></td></tr>'
        "<tr><td>Absence d&#x27;insuffisance hépatique sévère</td>"
        '<td><p class="fr-badge fr-badge--sm fr-badge--warning">Non attesté</p></td></tr>'
    ) in page
    assert '<h3 class="fr-h6">Justification du prescripteur</h3>' in page
    assert '<p id="justification">Une seule ligne antérieure ; aucune alternative appropriée.</p>' in page
    # The actions the workflow table gives the évaluateur in this state, each with its form.
    for action in ("demander_complement", "octroyer", "refuser"):
        assert f'data-action="{action}"' in page
    assert 'data-action="interroger_laboratoire"' not in page  # R16: a referenced indication
    assert f'formaction="/ansm/demandes/{demande.reference}/apercu/octroyer/"' in page
    assert f'formaction="/ansm/demandes/{demande.reference}/apercu/refuser/"' in page
    # Reading the page is a read of patient data, logged.
    assert AccesDonneesPatient.objects.filter(demande=demande, canal=CanalAcces.PAGE).count() == 1


def test_une_demande_conforme_montre_l_attestation(client_ansm):
    demande = DemandeFactory(en_evaluation=True)
    page = html(client_ansm.get(url(demande)))
    assert '<h3 class="fr-h6">Attestation</h3>' in page
    assert "Le prescripteur atteste que le patient remplit chacun des critères d'octroi (R11)." in page


def test_l_historique_du_medicament_compte_les_decisions_et_montre_les_dernieres(client_ansm, demande):
    indication = demande.indication
    immediat = DemandeFactory(octroyee=True, indication=indication, patient_initiales="Z.Y.", etat=False)
    DecisionFactory(demande=immediat, immediate=True, duree_jours=120)
    refusee = DemandeFactory(refusee=True, indication=indication, patient_initiales="Z.Y.")
    refusee.decidee_le = timezone.now() - datetime.timedelta(days=3)
    refusee.save()
    DemandeFactory(complement_fourni=True, indication=indication, patient_initiales="Z.Y.")
    DemandeFactory(annulee=True, indication=indication, soumise_le=timezone.now(), patient_initiales="Z.Y.")
    DemandeFactory(transmise=True, indication=indication, patient_initiales="Z.Y.")  # never submitted: not counted
    DemandeFactory(octroyee=True, patient_initiales="Z.Y.")  # another medicine

    page = html(client_ansm.get(url(demande)))
    assert '<strong id="historique-nombre">4</strong>demandes soumises' in page
    assert '<li id="historique-octroyees">1 octroyée</li>' in page
    assert '<li id="historique-refusees">1 refusée</li>' in page
    assert '<li id="historique-en-cours">1 en cours d\'instruction</li>' in page
    dernieres = page.split('<ul id="historique-dernieres">')[1].split("</ul>")[0]
    assert dernieres.index(immediat.reference) < dernieres.index(refusee.reference)
    assert "octroi immédiat (120 j)" in dernieres
    assert "refus (Éléments insuffisants pour présumer" in dernieres
    # Other patients: nothing of them on this page.
    assert "Z.Y." not in page


def test_un_medicament_non_reference_a_son_historique_par_dci(client_ansm):
    demande = DemandeFactory(non_reference=True, en_evaluation=True)
    DemandeFactory(non_reference=True, refusee=True, medicament_dci="EXEMPLUMAB")
    DemandeFactory(non_reference=True, refusee=True, medicament_dci="autremab")
    page = html(client_ansm.get(url(demande)))
    assert '<strong id="historique-nombre">1</strong>demande soumise' in page
    assert "Médicament non référencé : pas de critères d'octroi publiés, la demande est justifiée (R12)." in page
    assert 'data-action="interroger_laboratoire"' in page


def _peupler_historique(demande, nombre):
    for _ in range(nombre):
        DemandeFactory(refusee=True, indication=demande.indication)


def test_le_nombre_de_requetes_de_la_page_ne_depend_pas_de_l_historique(client_ansm, demande):
    _peupler_historique(demande, 1)
    client_ansm.get(url(demande))
    with CaptureQueriesContext(connection) as petit:
        client_ansm.get(url(demande))
    _peupler_historique(demande, 8)
    with CaptureQueriesContext(connection) as grand:
        page = html(client_ansm.get(url(demande)))
    assert '<strong id="historique-nombre">9</strong>' in page
    assert len(grand) == len(petit)


# --- Actions from the review page -----------------------------------------------------------------------------------


def test_demander_un_complement_a_la_pui_depuis_la_page(client_ansm, evaluateur, demande):
    limite = timezone.localdate() + datetime.timedelta(days=10)
    reponse = client_ansm.post(
        reverse("ansm:instruction_action", args=[demande.reference, "demander_complement"]),
        {
            "demander_complement-version": demande.version,
            "demander_complement-question": "Merci de joindre le dernier bilan.",
            "demander_complement-date_limite": limite.isoformat(),
        },
    )
    assert reponse.status_code == 302 and reponse.url == url(demande)
    demande.refresh_from_db()
    assert demande.statut == StatutDemande.COMPLEMENT_DEMANDE and demande.evaluateur == evaluateur
    evenement = demande.journal.get(transition="demander_complement")
    assert (evenement.acteur, evenement.role, evenement.commentaire) == (
        evaluateur,
        "evaluateur",
        "Merci de joindre le dernier bilan.",
    )


def test_refuser_depuis_la_page_exige_un_motif_r18(client_ansm, demande):
    action = reverse("ansm:instruction_action", args=[demande.reference, "refuser"])
    reponse = client_ansm.post(action, {"refuser-version": demande.version, "refuser-motif": MotifRefus.AUTRE})
    page = html(reponse)
    assert reponse.status_code == 400
    assert "Précisez le motif du refus (R18)" in page
    assert not Decision.objects.filter(demande=demande).exists()

    reponse = client_ansm.post(
        action,
        {
            "refuser-version": demande.version,
            "refuser-motif": MotifRefus.ESSAI_OU_AAP,
            "refuser-commentaire": "Essai de phase III ouvert à Lyon.",
        },
    )
    assert reponse.status_code == 302
    decision = Decision.objects.get(demande=demande)
    assert decision.sens == SensDecision.REFUS and decision.motif_refus == MotifRefus.ESSAI_OU_AAP
    page = html(client_ansm.get(url(demande)))
    assert "AAC refusée</h2>" in page
    assert "Motif : Inclusion possible dans un essai clinique ou un accès précoce en cours" in page


def test_r44_confirmer_une_regularisation_depuis_la_page(client_ansm, evaluateur):
    demande = DemandeFactory(octroyee=True, regularisation_a_posteriori=True)
    reponse = client_ansm.post(
        reverse("ansm:instruction_action", args=[demande.reference, "regulariser"]),
        {"regulariser-version": demande.version, "regulariser-commentaire": "Conforme."},
    )
    assert reponse.status_code == 302
    demande.refresh_from_db()
    assert demande.regularisee_le is not None
    assert demande.journal.get(transition="regulariser").acteur == evaluateur


def test_une_action_sur_une_version_perimee_affiche_le_conflit_sans_rien_ecrire(client_ansm, demande):
    reponse = client_ansm.post(
        reverse("ansm:instruction_action", args=[demande.reference, "refuser"]),
        {"refuser-version": demande.version - 1 if demande.version > 1 else 99, "refuser-motif": "investigation"},
    )
    assert reponse.status_code == 409
    assert "La demande a été modifiée entre-temps" in html(reponse)
    assert not Decision.objects.filter(demande=demande).exists()


# --- The preview of the decision PDF -------------------------------------------------------------------------------


def test_l_apercu_de_l_octroi_est_le_pdf_de_la_decision_sans_rien_enregistrer(client_ansm, demande):
    numero_avant = _sequence("demandes_numero_aac_seq")
    reference_avant = _sequence("demandes_decision_seq")
    version = demande.version
    reponse = client_ansm.post(
        reverse("ansm:instruction_apercu", args=[demande.reference, "octroyer"]),
        {
            "octroyer-version": version,
            "octroyer-duree_jours": 90,
            "octroyer-laboratoire": demande.specialite.titulaire_id,
            "octroyer-reserve_hospitalier": "oui",
            "octroyer-restriction_prescripteurs": "Prescription réservée aux oncopédiatres",
        },
    )
    assert reponse.status_code == 200 and reponse["Content-Type"] == "application/pdf"
    assert reponse["Content-Disposition"] == f'inline; filename="projet-de-decision-{demande.reference}.pdf"'
    texte = texte_pdf(reponse.content)
    assert texte.startswith("PROJET DE DÉCISION — aperçu sans valeur juridique, non notifié")
    assert "Décision d'autorisation d'accès compassionnel (AAC)" in texte
    assert "Initiales L.-A." in texte and "Durée de traitement 90 jour(s)" in texte
    assert "Restriction de prescription Prescription réservée aux oncopédiatres" in texte
    assert f"Laboratoire auprès duquel commander {demande.specialite.titulaire.nom}" in texte
    # Nothing written: no decision, no number drawn, no journal row, the request unchanged.
    demande.refresh_from_db()
    assert (demande.statut, demande.version) == (StatutDemande.EN_EVALUATION, version)
    assert not Decision.objects.filter(demande=demande).exists()
    assert not demande.journal.filter(transition="octroyer").exists()
    assert _sequence("demandes_numero_aac_seq") == numero_avant
    assert _sequence("demandes_decision_seq") == reference_avant
    # The preview shows patient data: its read is logged.
    assert AccesDonneesPatient.objects.filter(demande=demande, canal=CanalAcces.PDF).count() == 1


def test_l_apercu_du_refus_donne_le_motif_et_les_voies_de_recours(client_ansm, demande):
    reponse = client_ansm.post(
        reverse("ansm:instruction_apercu", args=[demande.reference, "refuser"]),
        {
            "refuser-version": demande.version,
            "refuser-motif": MotifRefus.AUTRE,
            "refuser-motif_texte": "Posologie hors des données disponibles.",
        },
    )
    texte = texte_pdf(reponse.content)
    assert "Décision de refus d'autorisation d'accès compassionnel (AAC)" in texte
    assert "Motif du refus Autre motif : Posologie hors des données disponibles." in texte
    assert "recours gracieux auprès du directeur général de l'ANSM" in texte
    assert not Decision.objects.filter(demande=demande).exists()


def test_l_apercu_applique_les_regles_de_la_decision(client_ansm, demande):
    # R24: once the AAC of the medicine has ceased, no grant can be previewed either.
    acces = demande.indication.acces
    acces.date_cessation = timezone.localdate() - datetime.timedelta(days=1)
    acces.save()
    reponse = client_ansm.post(
        reverse("ansm:instruction_apercu", args=[demande.reference, "octroyer"]),
        {
            "octroyer-version": demande.version,
            "octroyer-duree_jours": 90,
            "octroyer-laboratoire": demande.specialite.titulaire_id,
            "octroyer-reserve_hospitalier": "oui",
        },
    )
    page = html(reponse)
    assert reponse.status_code == 400 and reponse["Content-Type"].startswith("text/html")
    assert "aucune AAC ne peut plus être octroyée (R24)" in page


def test_l_apercu_est_reserve_a_l_ansm(client, demande):
    connecter(client, demande.prescripteur)
    reponse = client.post(
        reverse("ansm:instruction_apercu", args=[demande.reference, "refuser"]),
        {"refuser-version": demande.version, "refuser-motif": MotifRefus.INVESTIGATION},
    )
    assert reponse.status_code == 403
    assert reponse["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("trait", ["prescripteur", "pharmacien", "laboratoire_role"])
def test_les_autres_roles_n_ouvrent_pas_la_page_d_instruction(client, demande, trait):
    connecter(client, UtilisateurFactory(**{trait: True}))
    assert client.get(url(demande)).status_code == 403
    assert not AccesDonneesPatient.objects.filter(demande=demande).exists()


def test_une_demande_non_soumise_n_a_pas_de_page_d_instruction(client_ansm):
    assert client_ansm.get(url(DemandeFactory(transmise=True))).status_code == 404


def test_la_page_partagee_mene_l_ansm_a_la_page_d_instruction(client_ansm, demande):
    page = html(client_ansm.get(f"/demandes/{demande.reference}/"))
    assert f'id="lien-instruction" href="/ansm/demandes/{demande.reference}/">Page d\'instruction</a>' in page


def test_une_partie_dont_le_role_ne_prend_pas_l_action_recoit_un_403_quoi_qu_elle_poste(client, demande):
    pharmacien = UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    connecter(client, pharmacien)
    for donnees in ({}, {"octroyer-version": demande.version, "octroyer-duree_jours": 30}):
        reponse = client.post(reverse("demandes:action", args=[demande.reference, "octroyer"]), donnees)
        assert reponse.status_code == 403
        assert demande.reference not in reponse.content.decode()
    assert not Decision.objects.filter(demande=demande).exists()
    # The ANSM does not attach pieces to a request: the PUI and the prescriber do.
    connecter(client, UtilisateurFactory(evaluateur=True))
    assert client.post(reverse("demandes:piece_joindre", args=[demande.reference]), {}).status_code == 403
