"""R19: the ANSM answers a recours gracieux. Upheld, the decision is reviewed (reformed into a grant, with a new
number, PDF and appeal deadline; the contested decision stays in the journal); rejected, with its reasons. Each
ruling is journaled and notified."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from comptes.models import Notification
from demandes import services
from demandes.calendrier import ajouter_mois
from demandes.enums import MotifRefus, SensDecision, StatutDemande, StatutRecours
from demandes.exceptions import ConflitEtat, DemandeError, TransitionInterdite
from demandes.models import Decision, Recours
from tests.factories import DemandeFactory, LaboratoireFactory, UtilisateurFactory

from .conftest import html, texte_decision

pytestmark = pytest.mark.django_db


@pytest.fixture
def refusee(evaluateur):
    """A refusal by the évaluateur (through the service: a real PDF), appealed by the prescriber."""
    demande = DemandeFactory(en_evaluation=True, criteres=[True, False], justification="Pas d'alternative.")
    services.demande_refuser(
        demande=demande, par=evaluateur, version=demande.version, motif=MotifRefus.DONNEES_INSUFFISANTES
    )
    demande.refresh_from_db()
    services.recours_former(
        demande=demande, par=demande.prescripteur, version=demande.version, motif="Nouvelle publication favorable."
    )
    demande.refresh_from_db()
    return demande


def test_r19_accueillir_le_recours_reforme_le_refus_en_octroi(client_ansm, evaluateur, refusee):
    contestee = Decision.objects.get(demande=refusee)
    ancienne_reference, ancien_fichier = contestee.reference, contestee.fichier.name
    page = html(client_ansm.get(f"/ansm/demandes/{refusee.reference}/"))
    assert 'data-action="accueillir_recours"' in page and 'data-action="rejeter_recours"' in page
    assert "Nouvelle publication favorable." in page
    assert f'formaction="/ansm/demandes/{refusee.reference}/apercu/accueillir_recours/"' in page

    reponse = client_ansm.post(
        reverse("ansm:instruction_action", args=[refusee.reference, "accueillir_recours"]),
        {
            "accueillir_recours-version": refusee.version,
            "accueillir_recours-reponse": "La publication de 2026 permet de présumer l'efficacité.",
            "accueillir_recours-duree_jours": 120,
            "accueillir_recours-laboratoire": refusee.specialite.titulaire_id,
            "accueillir_recours-reserve_hospitalier": "oui",
        },
    )
    assert reponse.status_code == 302
    refusee.refresh_from_db()
    assert refusee.statut == StatutDemande.OCTROYEE
    revue = Decision.objects.get(demande=refusee)
    assert revue.pk == contestee.pk  # one decision per request: reviewed in its row
    assert revue.sens == SensDecision.OCTROI and revue.duree_jours == 120 and revue.decidee_par == evaluateur
    assert revue.reference != ancienne_reference and revue.numero_aac.startswith("AAC-")
    assert revue.date_limite_recours == ajouter_mois(timezone.localdate(), 2)
    texte = texte_decision(revue)
    assert f"Numéro d'AAC {revue.numero_aac}" in texte and "Durée de traitement 120 jour(s)" in texte
    assert "Décision prise sur recours gracieux : La publication de 2026" in texte
    recours = Recours.objects.get(demande=refusee)
    assert recours.statut == StatutRecours.ACCUEILLI and recours.statue_par == evaluateur
    assert recours.reponse == "La publication de 2026 permet de présumer l'efficacité."
    evenement = refusee.journal.get(transition="accueillir_recours")
    assert (evenement.statut_avant, evenement.statut_apres, evenement.role) == ("refusee", "octroyee", "evaluateur")
    assert evenement.details["decision_contestee"]["reference"] == ancienne_reference
    assert evenement.details["decision_contestee"]["sens"] == "refus"
    assert evenement.details["decision_contestee"]["fichier"] == ancien_fichier
    assert evenement.details["numero_aac"] == revue.numero_aac
    # The contested decision's PDF stays in storage.
    assert revue.fichier.storage.exists(ancien_fichier) and revue.fichier.name != ancien_fichier
    courriel = Notification.objects.get(destinataire=refusee.prescripteur.email, sujet__startswith="Recours")
    assert courriel.sujet == f"Recours gracieux accueilli — AAC n° {revue.numero_aac}"
    # No second appeal on the reviewed decision; the actions disappear.
    page = html(client_ansm.get(f"/ansm/demandes/{refusee.reference}/"))
    assert 'data-action="accueillir_recours"' not in page
    assert "Recours gracieux du" in page and "Accueilli" in page


def test_r19_rejeter_le_recours_avec_ses_motifs(client_ansm, evaluateur, refusee):
    action = reverse("ansm:instruction_action", args=[refusee.reference, "rejeter_recours"])
    reponse = client_ansm.post(action, {"rejeter_recours-version": refusee.version, "rejeter_recours-reponse": " "})
    assert reponse.status_code == 400
    assert Recours.objects.get(demande=refusee).statut == StatutRecours.DEPOSE

    reponse = client_ansm.post(
        action,
        {"rejeter_recours-version": refusee.version, "rejeter_recours-reponse": "La publication porte sur l'adulte."},
    )
    assert reponse.status_code == 302
    refusee.refresh_from_db()
    assert refusee.statut == StatutDemande.REFUSEE
    assert Decision.objects.get(demande=refusee).sens == SensDecision.REFUS
    recours = Recours.objects.get(demande=refusee)
    assert recours.statut == StatutRecours.REJETE and recours.reponse == "La publication porte sur l'adulte."
    evenement = refusee.journal.get(transition="rejeter_recours")
    assert (evenement.statut_avant, evenement.statut_apres) == ("refusee", "refusee")
    assert evenement.commentaire == "La publication porte sur l'adulte."
    courriel = Notification.objects.get(destinataire=refusee.prescripteur.email, sujet__startswith="Recours")
    assert "un recours contentieux reste possible" in courriel.corps
    page = html(client_ansm.get(f"/ansm/demandes/{refusee.reference}/"))
    assert "Réponse du" in page and "La publication porte sur l&#x27;adulte." in page


def test_r19_une_reponse_au_recours_est_motivee(evaluateur, refusee):
    with pytest.raises(DemandeError, match=r"Motivez la réponse au recours gracieux \(R19\)"):
        services.recours_rejeter(demande=refusee, par=evaluateur, version=refusee.version, reponse="")


def test_r19_on_ne_statue_qu_une_fois_et_seulement_sur_un_recours_depose(evaluateur, refusee):
    services.recours_rejeter(demande=refusee, par=evaluateur, version=refusee.version, reponse="Non.")
    refusee.refresh_from_db()
    with pytest.raises(ConflitEtat, match="Aucun recours gracieux n'attend de réponse"):
        services.recours_accueillir(
            demande=refusee,
            par=evaluateur,
            version=refusee.version,
            reponse="Finalement oui.",
            duree_jours=30,
            laboratoire=LaboratoireFactory(),
            reserve_hospitalier=True,
        )
    sans_recours = DemandeFactory(refusee=True)
    with pytest.raises(ConflitEtat, match="Aucun recours gracieux"):
        services.recours_rejeter(demande=sans_recours, par=evaluateur, version=sans_recours.version, reponse="Non.")


def test_r19_le_recours_accueilli_suit_les_regles_de_l_octroi(evaluateur, refusee):
    # R24: the AAC of the medicine ceased meanwhile: the decision cannot be reformed into a grant.
    acces = refusee.indication.acces
    acces.date_cessation = timezone.localdate() - datetime.timedelta(days=1)
    acces.save()
    with pytest.raises(DemandeError, match="R24"):
        services.recours_accueillir(
            demande=refusee,
            par=evaluateur,
            version=refusee.version,
            reponse="Accueilli.",
            duree_jours=30,
            laboratoire=LaboratoireFactory(),
            reserve_hospitalier=True,
        )
    assert Recours.objects.get(demande=refusee).statut == StatutRecours.DEPOSE
    assert Decision.objects.get(demande=refusee).sens == SensDecision.REFUS


def test_r19_seul_un_evaluateur_statue(refusee):
    with pytest.raises(TransitionInterdite):
        services.recours_rejeter(
            demande=refusee, par=UtilisateurFactory(administrateur=True), version=refusee.version, reponse="Non."
        )
    with pytest.raises(TransitionInterdite):
        services.recours_rejeter(demande=refusee, par=refusee.prescripteur, version=refusee.version, reponse="Non.")


def test_r19_une_reponse_au_recours_sans_date_est_refusee_par_la_base(refusee):
    from django.db import IntegrityError, transaction

    recours = Recours.objects.get(demande=refusee)
    recours.statut = StatutRecours.REJETE
    with pytest.raises(IntegrityError), transaction.atomic():
        recours.save()
