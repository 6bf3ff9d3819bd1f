"""Decisions: the immediate grant (R15), out of hours (R44), the évaluateur's grant and refusal (R17, R18, R28),
the decision PDF read back (R45, R19), the appeal window (R19), the renewal (R20, R46), and the emails."""

import datetime
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from comptes.models import Notification
from demandes import services
from demandes.enums import MotifRefus, SensDecision, StatutDemande, Urgence
from demandes.exceptions import ConflitEtat, DemandeError
from demandes.models import Decision, DemandeAAC
from tests.factories import CompositionFactory, DemandeFactory, LaboratoireFactory, UtilisateurFactory

pytestmark = pytest.mark.django_db


def pharmacien_de(demande):
    return UtilisateurFactory(
        pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement, prenom="Karim", nom="Benali"
    )


def soumettre(demande):
    return services.demande_soumettre(demande=demande, par=pharmacien_de(demande), version=demande.version)


def texte_pdf(decision: Decision) -> str:
    decision.fichier.open("rb")
    try:
        lecteur = PdfReader(io.BytesIO(decision.fichier.read()))
    finally:
        decision.fichier.close()
    return " ".join(" ".join(page.extract_text().split()) for page in lecteur.pages)


# --- R15: the immediate grant ------------------------------------------------------------------------------------


def test_r15_une_demande_conforme_sur_une_specialite_referencee_est_octroyee_immediatement(heures_ouvrees):
    demande = soumettre(DemandeFactory(transmise=True))
    assert demande.statut == StatutDemande.OCTROYEE
    decision = Decision.objects.get(demande=demande)
    assert decision.sens == SensDecision.OCTROI and decision.immediate and decision.decidee_par is None
    assert decision.numero_aac.startswith(f"AAC-{timezone.localdate():%Y}-")
    assert decision.duree_jours == 180
    assert decision.date_fin_traitement == timezone.localdate() + datetime.timedelta(days=179)
    assert decision.laboratoire == demande.specialite.titulaire
    assert decision.date_limite_recours == services.ajouter_mois(timezone.localdate(), 2)
    assert [j.transition for j in demande.journal.all()] == ["soumettre", "octroyer_immediatement"]
    octroi = demande.journal.get(transition="octroyer_immediatement")
    assert octroi.role == "systeme" and octroi.acteur is None and "(R15)" in octroi.commentaire
    assert not demande.regularisation_a_posteriori and not demande.hors_heures
    assert decision.fichier.name.endswith(f"{decision.reference}.pdf")


@pytest.mark.parametrize(
    ("modification", "motif"),
    [
        ({"criteres": [True, False], "justification": "Critère 2 non rempli, mais pas d'alternative."}, "critères"),
        ({"hors_indication": True}, "indication référencée"),
        ({"non_reference": True}, "indication référencée"),
    ],
)
def test_r15_sinon_la_demande_part_en_evaluation_avec_le_motif(heures_ouvrees, modification, motif):
    demande = soumettre(DemandeFactory(transmise=True, **modification))
    assert demande.statut == StatutDemande.EN_EVALUATION
    assert not Decision.objects.filter(demande=demande).exists()
    details = demande.journal.get(transition="soumettre").details
    assert details["octroi_immediat"] is False
    assert any(motif in m for m in details["motifs_evaluation"])


def test_r15_l_aac_de_la_specialite_doit_etre_en_cours(heures_ouvrees):
    demande = DemandeFactory(transmise=True)
    acces = demande.indication.acces
    acces.etat = "suspendu"
    acces.save()
    assert soumettre(demande).statut == StatutDemande.EN_EVALUATION


def test_r7_r16_sans_engagement_aap_du_laboratoire_pas_d_octroi(heures_ouvrees):
    demande = DemandeFactory(transmise=True)
    acces = demande.indication.acces
    acces.riph_commerciale = True
    acces.save()
    demande = soumettre(demande)
    assert demande.statut == StatutDemande.EN_EVALUATION
    with pytest.raises(DemandeError, match=r"\(R7, R16\)"):
        services.demande_octroyer(
            demande=demande,
            par=UtilisateurFactory(evaluateur=True),
            version=demande.version,
            duree_jours=30,
            laboratoire=demande.specialite.titulaire,
            reserve_hospitalier=True,
        )


# --- R44: out of hours -------------------------------------------------------------------------------------------


def test_r44_hors_heures_une_demande_conforme_est_octroyee_et_signalee_pour_regularisation(hors_heures):
    demande = soumettre(DemandeFactory(transmise=True, urgence=Urgence.VITALE, astreinte_contactee=True))
    assert demande.statut == StatutDemande.OCTROYEE
    assert demande.hors_heures and demande.regularisation_a_posteriori and demande.regularisee_le is None
    assert (
        "régularisation a posteriori par l'ANSM (R44)"
        in demande.journal.get(transition="octroyer_immediatement").commentaire
    )
    # Visible to the ANSM, then confirmed by an évaluateur (audited).
    evaluateur = UtilisateurFactory(evaluateur=True)
    from demandes.selectors import actions_disponibles

    assert "regulariser" in [t.nom for t in actions_disponibles(evaluateur, demande)]
    demande = services.demande_regulariser(
        demande=demande, par=evaluateur, version=demande.version, commentaire="Critères vérifiés."
    )
    assert demande.regularisee_le is not None
    evenement = demande.journal.get(transition="regulariser")
    assert evenement.acteur == evaluateur and evenement.commentaire == "Critères vérifiés."
    assert "Demande soumise hors heures ouvrées" in texte_pdf(demande.decision)
    with pytest.raises(ConflitEtat, match="R44"):
        services.demande_regulariser(demande=demande, par=evaluateur, version=demande.version)


def test_r44_hors_heures_une_demande_non_conforme_reste_en_evaluation_et_garde_l_urgence(hors_heures):
    demande = soumettre(
        DemandeFactory(transmise=True, criteres=[False, True], justification="Justifiée.", urgence=Urgence.VITALE)
    )
    assert demande.statut == StatutDemande.EN_EVALUATION
    assert demande.hors_heures and not demande.regularisation_a_posteriori
    assert demande.urgence == Urgence.VITALE


@pytest.mark.parametrize(
    ("moment", "hors"),
    [
        (datetime.datetime(2026, 3, 10, 10, 0), False),  # a Tuesday morning
        (datetime.datetime(2026, 3, 10, 19, 30), True),  # evening
        (datetime.datetime(2026, 3, 14, 11, 0), True),  # Saturday
        (datetime.datetime(2026, 5, 14, 11, 0), True),  # Ascension Day 2026
        (datetime.datetime(2026, 7, 14, 11, 0), True),  # national holiday
    ],
)
def test_r44_heures_ouvrees_de_l_ansm(moment, hors):
    from demandes.calendrier import est_hors_heures

    assert est_hors_heures(timezone.make_aware(moment)) is hors


# --- Decisions by the évaluateur, the PDF -----------------------------------------------------------------------


def test_r17_r28_r45_l_octroi_par_l_evaluateur_et_le_texte_de_sa_decision(heures_ouvrees):
    demande = DemandeFactory(
        complement_fourni=True,
        prescripteur__prenom="Claire",
        prescripteur__nom="Martin",
        prescripteur__fonction="Hématologue, PH",
        prescripteur__telephone="01 23 45 67 89",
        pui__nom="PUI Centrale",
        pui__telephone="01 98 76 54 32",
        indication__acces__specialite__nom="IBRUTINIB EXEMPLE 140 mg, gélule",
        indication__acces__specialite__forme_pharmaceutique="gélule",
        patient_initiales="M.-C.",
    )
    CompositionFactory(specialite=demande.specialite, substance__dci="ibrutinib", dosage="140 mg")
    laboratoire = LaboratoireFactory(nom="Laboratoire Exploitant SA", email="commandes@labo.example")
    evaluateur = UtilisateurFactory(evaluateur=True)
    decision = services.demande_octroyer(
        demande=demande,
        par=evaluateur,
        version=demande.version,
        duree_jours=90,
        laboratoire=laboratoire,
        reserve_hospitalier=False,
        restriction_prescripteurs="Prescription réservée aux hématologues",
    )
    demande.refresh_from_db()
    assert demande.statut == StatutDemande.OCTROYEE and demande.decidee_le is not None
    assert decision.retrocession and not decision.reserve_hospitalier and not decision.immediate
    texte = texte_pdf(decision)
    attendus = [
        "Décision d'autorisation d'accès compassionnel (AAC)",
        f"Numéro d'AAC {decision.numero_aac}",
        f"Référence de la décision {decision.reference}",
        f"Demande {demande.reference}",
        "Claire Martin",
        "Hématologue, PH",
        demande.prescripteur.email,
        "01 23 45 67 89",
        "PUI Centrale",
        "01 98 76 54 32",
        "Initiales M.-C.",
        "IBRUTINIB EXEMPLE 140 mg, gélule",
        "DCI ibrutinib",
        "Forme pharmaceutique gélule",
        "Dosage ibrutinib 140 mg",
        "Durée de traitement 90 jour(s)",
        "inscrit sur la liste de rétrocession",
        "Non disponible en pharmacie d'officine",
        "Prescription réservée aux hématologues",
        "Laboratoire Exploitant SA (commandes@labo.example)",
        "PUT-SP) est publié sur le site internet de l'ANSM",
        "il doit être respecté",
        "recours gracieux auprès du directeur général de l'ANSM",
        f"jusqu'au {decision.date_limite_recours:%d/%m/%Y}",
    ]
    manquants = [a for a in attendus if a not in texte]
    assert not manquants, texte
    # R43: the decision carries the initials, never more.
    assert "Nom du patient" not in texte and "naissance" not in texte


@pytest.mark.parametrize(
    ("motif", "texte_motif", "extrait"),
    [
        (MotifRefus.ALTERNATIVE_AMM, "", "alternative thérapeutique appropriée disposant d'une AMM"),
        (MotifRefus.DONNEES_INSUFFISANTES, "", "présumer l'efficacité et la sécurité"),
        (MotifRefus.INVESTIGATION, "", "objectif d'investigation"),
        (MotifRefus.ESSAI_OU_AAP, "", "essai clinique ou un accès précoce"),
        (MotifRefus.AUTRE, "Dossier incohérent avec le PUT-SP.", "Autre motif : Dossier incohérent avec le PUT-SP."),
    ],
)
def test_r18_r19_le_refus_donne_son_motif_et_les_voies_de_recours(heures_ouvrees, motif, texte_motif, extrait):
    demande = DemandeFactory(en_evaluation=True)
    decision = services.demande_refuser(
        demande=demande,
        par=UtilisateurFactory(evaluateur=True),
        version=demande.version,
        motif=motif,
        motif_texte=texte_motif,
    )
    assert decision.numero_aac is None and decision.sens == SensDecision.REFUS
    texte = texte_pdf(decision)
    assert "Décision de refus d'autorisation d'accès compassionnel" in texte
    assert extrait in texte
    assert "recours contentieux auprès du tribunal administratif compétent, dans un délai de deux mois" in texte
    assert "Numéro d'AAC" not in texte


def test_r18_un_autre_motif_doit_etre_precise():
    demande = DemandeFactory(en_evaluation=True)
    with pytest.raises(DemandeError, match=r"Précisez le motif du refus \(R18\)"):
        services.demande_refuser(
            demande=demande, par=UtilisateurFactory(evaluateur=True), version=demande.version, motif=MotifRefus.AUTRE
        )


@pytest.mark.parametrize("duree", [0, 366])
def test_r17_l_evaluateur_octroie_pour_1_jour_a_1_an(duree):
    demande = DemandeFactory(en_evaluation=True)
    with pytest.raises(DemandeError, match=r"\(R17\)"):
        services.demande_octroyer(
            demande=demande,
            par=UtilisateurFactory(evaluateur=True),
            version=demande.version,
            duree_jours=duree,
            laboratoire=demande.specialite.titulaire,
            reserve_hospitalier=True,
        )
    assert not Decision.objects.exists()


def test_les_numeros_de_decision_et_d_aac_sont_uniques_et_lisibles(heures_ouvrees):
    numeros = {soumettre(DemandeFactory(transmise=True)).decision.numero_aac for _ in range(3)}
    assert len(numeros) == 3
    assert all(n.startswith(f"AAC-{timezone.localdate():%Y}-") and len(n) == 15 for n in numeros)


# --- R19: appeal --------------------------------------------------------------------------------------------------


def test_r19_un_recours_gracieux_est_enregistre_dans_les_2_mois_une_seule_fois():
    demande = DemandeFactory(refusee=True)
    recours = services.recours_former(
        demande=demande, par=demande.prescripteur, version=demande.version, motif="Données nouvelles disponibles."
    )
    assert recours.decision == demande.decision and recours.statut == "depose"
    demande.refresh_from_db()
    assert demande.statut == StatutDemande.REFUSEE
    assert demande.journal.get(transition="former_recours").commentaire == "Données nouvelles disponibles."
    with pytest.raises(DemandeError, match="déjà été formé"):
        services.recours_former(demande=demande, par=demande.prescripteur, version=demande.version, motif="Encore.")


def test_r19_apres_2_mois_le_recours_est_refuse():
    demande = DemandeFactory(refusee=True)
    demande.decision.date_limite_recours = timezone.localdate() - datetime.timedelta(days=1)
    demande.decision.save()
    from demandes.selectors import actions_disponibles

    assert "former_recours" not in [t.nom for t in actions_disponibles(demande.prescripteur, demande)]
    with pytest.raises(DemandeError, match=r"délai de recours de 2 mois.*\(R19\)"):
        services.recours_former(demande=demande, par=demande.prescripteur, version=demande.version, motif="Tard.")


def test_r19_la_date_limite_est_la_notification_plus_2_mois():
    from demandes.calendrier import ajouter_mois

    assert ajouter_mois(datetime.date(2026, 12, 31), 2) == datetime.date(2027, 2, 28)
    assert ajouter_mois(datetime.date(2026, 3, 10), 2) == datetime.date(2026, 5, 10)


# --- R20, R46: renewal --------------------------------------------------------------------------------------------


def test_r20_r46_le_renouvellement_est_une_nouvelle_demande_liee_et_pre_remplie(heures_ouvrees):
    initiale = DemandeFactory(octroyee=True, posologie="3 comprimés par jour")
    nouvelle, creee = services.demande_renouveler(
        demande=initiale, par=initiale.prescripteur, version=initiale.version, cle_idempotence="renouv-1"
    )
    assert creee and nouvelle.pk != initiale.pk and nouvelle.demande_initiale == initiale
    assert nouvelle.statut == StatutDemande.BROUILLON
    assert (nouvelle.specialite, nouvelle.indication, nouvelle.posologie, nouvelle.patient_initiales) == (
        initiale.specialite,
        initiale.indication,
        "3 comprimés par jour",
        initiale.patient_initiales,
    )
    assert {a.critere_id: a.rempli for a in nouvelle.attestations.all()} == {
        a.critere_id: a.rempli for a in initiale.attestations.all()
    }
    # R46: the past period's data and the statement are the prescriber's to give again, with the commitments.
    assert not nouvelle.engagement_surveillance and not nouvelle.declaration_poursuite
    assert initiale.journal.get(transition="renouveler").details == {"renouvellement": nouvelle.reference}
    assert nouvelle.journal.get(transition="creer").details == {"renouvellement_de": initiale.reference}
    # The same click twice gives the same renewal; another one is refused while this one is open.
    assert services.demande_renouveler(
        demande=initiale, par=initiale.prescripteur, version=initiale.version + 1, cle_idempotence="renouv-1"
    ) == (nouvelle, False)
    with pytest.raises(ConflitEtat, match=nouvelle.reference):
        services.demande_renouveler(demande=initiale, par=initiale.prescripteur, version=initiale.version + 1)


def test_r46_le_renouvellement_exige_les_donnees_de_la_periode_et_la_declaration(heures_ouvrees):
    initiale = DemandeFactory(octroyee=True)
    nouvelle, _ = services.demande_renouveler(demande=initiale, par=initiale.prescripteur, version=initiale.version)
    services.demande_modifier(
        demande=nouvelle,
        par=initiale.prescripteur,
        version=nouvelle.version,
        donnees={f: True for f in services.ENGAGEMENTS_R13},
    )
    nouvelle.refresh_from_db()
    with pytest.raises(DemandeError) as erreur:
        services.demande_transmettre(demande=nouvelle, par=initiale.prescripteur, version=nouvelle.version)
    assert {e.champ for e in erreur.value.erreurs} == {"donnees_cliniques_periode", "declaration_poursuite"}
    assert all(e.regle == "R46" for e in erreur.value.erreurs)
    nouvelle = services.demande_modifier(
        demande=nouvelle,
        par=initiale.prescripteur,
        version=nouvelle.version,
        donnees={
            "donnees_cliniques_periode": "Réponse partielle à 6 mois, bonne tolérance.",
            "declaration_poursuite": True,
        },
    )
    nouvelle = services.demande_transmettre(demande=nouvelle, par=initiale.prescripteur, version=nouvelle.version)
    # R46: refused on the same grounds as a first request; here it is compliant, hence granted at once (R15).
    assert soumettre(nouvelle).statut == StatutDemande.OCTROYEE


# --- Emails -------------------------------------------------------------------------------------------------------


def test_chaque_etape_previent_les_personnes_concernees_apres_commit_sans_donnee_patient(
    heures_ouvrees, django_capture_on_commit_callbacks, mailoutbox
):
    demande = DemandeFactory(
        criteres=[True, False], justification="Justifiée.", pui__email="pui@chu.example", urgence=Urgence.VITALE
    )
    pharmacien = pharmacien_de(demande)
    demande.pharmacien = pharmacien
    demande.save()
    evaluateur = UtilisateurFactory(evaluateur=True, email="eval@ansm.example")
    with django_capture_on_commit_callbacks(execute=True):
        demande = services.demande_transmettre(demande=demande, par=demande.prescripteur, version=demande.version)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(["pui@chu.example", pharmacien.email])
    assert mailoutbox[0].subject == f"Demande d'AAC {demande.reference} à vérifier"
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        demande = services.demande_soumettre(demande=demande, par=pharmacien, version=demande.version)
    # An urgence vitale not yet assigned: every évaluateur is told (otherwise it waits in the review queue).
    assert {m.to[0]: m.subject for m in mailoutbox} == {
        demande.prescripteur.email: f"Demande d'AAC {demande.reference} soumise à l'ANSM",
        evaluateur.email: f"Nouvelle demande d'AAC {demande.reference} à évaluer",
    }
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decision = services.demande_octroyer(
            demande=demande,
            par=evaluateur,
            version=demande.version,
            duree_jours=60,
            laboratoire=demande.specialite.titulaire,
            reserve_hospitalier=True,
        )
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [demande.prescripteur.email, "pui@chu.example", pharmacien.email]
    )
    message = mailoutbox[0]
    assert decision.numero_aac in message.subject
    assert f"https://referentiel-ad.example/demandes/{demande.reference}/" in message.body
    assert demande.patient_initiales not in message.body and "aucune donnée du patient" in message.body
    assert Notification.objects.filter(envoye_le__isnull=True).count() == 0


def test_une_demande_non_urgente_attend_dans_la_file_sans_courriel_aux_evaluateurs():
    demande = DemandeFactory(transmise=True, criteres=[True, False], justification="Justifiée.")
    evaluateur = UtilisateurFactory(evaluateur=True)
    soumettre(demande)
    assert not Notification.objects.filter(destinataire=evaluateur.email).exists()
    assert Notification.objects.filter(destinataire=demande.prescripteur.email).count() == 1


def test_les_emails_sont_ecrits_dans_la_transaction_de_la_transition():
    demande = DemandeFactory(pui__email="pui@chu.example")
    avant = Notification.objects.count()
    with pytest.raises(DemandeError):
        services.demande_transmettre(demande=demande, par=demande.prescripteur, version=demande.version + 5)
    assert Notification.objects.count() == avant
    services.demande_transmettre(demande=demande, par=demande.prescripteur, version=demande.version)
    assert Notification.objects.filter(destinataire="pui@chu.example").count() == 1
    assert DemandeAAC.objects.get(pk=demande.pk).statut == StatutDemande.TRANSMISE_PHARMACIEN
