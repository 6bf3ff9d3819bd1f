"""The rules checked when a request is filed (transmitted by the prescriber) and when it is submitted to the ANSM
by the pharmacist, each refused with a French message that cites it."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from comptes.enums import Territoire
from demandes import services
from demandes.enums import Situation, StatutDemande, TypeMedicament
from demandes.exceptions import DemandeError
from demandes.models import DemandeAAC
from referentiel.enums import StatutAMM
from tests.factories import (
    AccesFactory,
    CompositionFactory,
    DemandeFactory,
    SpecialiteFactory,
    UtilisateurFactory,
)

pytestmark = pytest.mark.django_db


def transmettre(demande):
    return services.demande_transmettre(demande=demande, par=demande.prescripteur, version=demande.version)


def soumettre(demande):
    pharmacien = UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    return services.demande_soumettre(demande=demande, par=pharmacien, version=demande.version)


def refusee_avec(action, demande, regle: str, extrait: str):
    """The action is refused with this rule and sentence, and the request is left as it was."""
    avant = (demande.statut, demande.version)
    with pytest.raises(DemandeError) as erreur:
        action(demande)
    regles = {e.regle for e in erreur.value.erreurs}
    assert any(regle in (r or "") for r in regles), erreur.value.texte
    assert extrait in erreur.value.texte
    assert f"({regle}" in erreur.value.texte or f", {regle})" in erreur.value.texte
    demande.refresh_from_db()
    assert (demande.statut, demande.version) == avant
    return erreur.value


def amm_commercialisee(substance_de):
    """An authorised and marketed BDPM spécialité sharing the substance of this spécialité."""
    composition = substance_de.compositions.first() or CompositionFactory(specialite=substance_de)
    autorisee = SpecialiteFactory(
        nom=f"GENERIQUE AUTORISE {composition.substance.dci} {SpecialiteFactory._meta.model.objects.count()} mg",
        statut_amm=StatutAMM.AUTORISEE,
        etat_commercialisation_bdpm="Commercialisée",
        statut_administratif_bdpm="Autorisation active",
    )
    CompositionFactory(specialite=autorisee, substance=composition.substance)
    return autorisee


ACTIONS = [
    pytest.param(transmettre, {}, id="au-depot"),
    pytest.param(soumettre, {"transmise": True}, id="a-la-soumission"),
]


# --- R8 --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "trait"), ACTIONS)
@pytest.mark.parametrize(
    ("situation", "extrait"),
    [
        (Situation.INVESTIGATION, "objectif d'investigation"),
        (Situation.POURSUITE_ESSAI, "fin d'essai clinique"),
        (Situation.PREPARATION, "préparation hospitalière ou magistrale"),
        (Situation.IMPORTATION_RUPTURE, "indisponibilité du médicament français"),
        (Situation.HORS_AMM_COMMERCIALISE, "hors AMM d'un médicament commercialisé"),
    ],
)
def test_r8_une_situation_hors_du_champ_de_l_aac_est_refusee_avec_sa_raison(action, trait, situation, extrait):
    demande = DemandeFactory(situation=situation, **trait)
    refusee_avec(action, demande, "R8", extrait)


def test_r8_le_cadre_hors_champ_est_refuse_des_l_etape_du_formulaire():
    demande = DemandeFactory()
    with pytest.raises(DemandeError, match=r"objectif d'investigation.*\(R8\)"):
        services.demande_modifier(
            demande=demande, par=demande.prescripteur, version=demande.version, donnees={"situation": "investigation"}
        )
    demande.refresh_from_db()
    assert demande.situation == Situation.SOIN


# --- R9 --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "trait"), ACTIONS)
@pytest.mark.parametrize(
    "territoire", [Territoire.TAAF, Territoire.NOUVELLE_CALEDONIE, Territoire.POLYNESIE_FRANCAISE]
)
def test_r9_un_territoire_hors_competence_de_l_ansm_est_refuse(action, trait, territoire):
    demande = DemandeFactory(territoire=territoire, **trait)
    refusee_avec(action, demande, "R9", f"L'ANSM n'est pas l'autorité compétente pour les AAC en {territoire.label}")


@pytest.mark.parametrize(
    "territoire",
    [
        Territoire.METROPOLE,
        Territoire.GUYANE,
        Territoire.MAYOTTE,
        Territoire.WALLIS_ET_FUTUNA,
        Territoire.SAINT_BARTHELEMY,
    ],
)
def test_r9_les_territoires_de_competence_de_l_ansm_sont_acceptes(territoire):
    demande = transmettre(DemandeFactory(territoire=territoire))
    assert demande.statut == StatutDemande.TRANSMISE_PHARMACIEN


def test_r9_le_territoire_par_defaut_est_celui_de_l_etablissement():
    prescripteur = UtilisateurFactory(prescripteur=True, etablissement__territoire=Territoire.REUNION)
    specialite = AccesFactory().specialite
    demande, _ = services.demande_creer(
        par=prescripteur, donnees={"type_medicament": "reference_indication", "specialite": specialite}
    )
    assert demande.territoire == Territoire.REUNION


# --- R5, R12 ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "trait"), ACTIONS)
def test_r5_une_specialite_de_meme_substance_autorisee_et_commercialisee_en_france_est_refusee(action, trait):
    demande = DemandeFactory(**trait)
    autorisee = amm_commercialisee(demande.specialite)
    erreur = refusee_avec(action, demande, "R5", "dispose d'une AMM en France et est commercialisée")
    assert autorisee.nom in erreur.texte


def test_r5_la_reponse_vient_des_specialites_bdpm_pas_d_une_declaration():
    """A spécialité authorised but not marketed, or whose marketing stopped (R5), does not count."""
    demande = DemandeFactory()
    autorisee = amm_commercialisee(demande.specialite)
    autorisee.etat_commercialisation_bdpm = "Non commercialisée"
    autorisee.save()
    arretee = amm_commercialisee(demande.specialite)
    arretee.statut_amm = StatutAMM.ARRETEE
    arretee.save()
    assert transmettre(demande).statut == StatutDemande.TRANSMISE_PHARMACIEN


def test_r5_pendant_le_delai_avant_la_date_de_cessation_les_aac_continuent():
    demande = DemandeFactory()
    amm_commercialisee(demande.specialite)
    acces = demande.indication.acces
    acces.date_cessation = timezone.localdate() + datetime.timedelta(days=30)
    acces.save()
    assert transmettre(demande).statut == StatutDemande.TRANSMISE_PHARMACIEN


@pytest.mark.parametrize(("action", "trait"), ACTIONS)
def test_r12_un_medicament_non_reference_ayant_une_amm_en_france_est_refuse(action, trait):
    autorisee = SpecialiteFactory(
        nom="ÉXÉMPLUMAB 100 mg, solution",
        statut_amm=StatutAMM.AUTORISEE,
        etat_commercialisation_bdpm="Commercialisée",
        dci="Exemplumab",
    )
    demande = DemandeFactory(non_reference=True, medicament_dci="exemplumab", **trait)
    erreur = refusee_avec(action, demande, "R12", "un médicament non référencé ne peut être demandé en AAC")
    assert autorisee.nom in erreur.texte and "(R5, R12)" in erreur.texte


def test_r12_la_dci_est_comparee_sans_tenir_compte_des_accents_ni_de_la_casse_des_l_etape_du_medicament():
    SpecialiteFactory(statut_amm=StatutAMM.AUTORISEE, etat_commercialisation_bdpm="Commercialisée", dci="éfalizumab")
    prescripteur = UtilisateurFactory(prescripteur=True)
    with pytest.raises(DemandeError, match=r"\(R5, R12\)"):
        services.demande_creer(
            par=prescripteur,
            donnees={
                "type_medicament": TypeMedicament.NON_REFERENCE,
                "medicament_nom": "Raptiva",
                "medicament_dci": "EFALIZUMAB",
            },
        )
    assert not DemandeAAC.objects.filter(prescripteur=prescripteur).exists()


def test_r12_un_medicament_non_reference_sans_amm_est_accepte_avec_sa_description_et_une_justification():
    demande = DemandeFactory(non_reference=True)
    assert transmettre(demande).statut == StatutDemande.TRANSMISE_PHARMACIEN


@pytest.mark.parametrize(
    "champ", ["medicament_nom", "medicament_dci", "medicament_dosage", "medicament_forme", "medicament_laboratoire"]
)
def test_r12_un_medicament_non_reference_est_decrit_entierement(champ):
    demande = DemandeFactory(non_reference=True, **{champ: ""})
    refusee_avec(transmettre, demande, "R12", "Pour un médicament non référencé, indiquez")


@pytest.mark.parametrize("trait", ["hors_indication", "non_reference"])
def test_r12_hors_indication_ou_non_reference_la_justification_est_obligatoire(trait):
    demande = DemandeFactory(**{trait: True}, justification="")
    refusee_avec(transmettre, demande, "R12", "Justifiez la demande")


# --- R11 -------------------------------------------------------------------------------------------------------


def test_r11_un_critere_non_rempli_rend_la_justification_obligatoire():
    demande = DemandeFactory(criteres=[True, False], justification="")
    refusee_avec(transmettre, demande, "R11", "Justifiez la demande")
    demande.justification = "Le patient ne remplit pas le critère 2 mais aucun traitement approprié n'existe."
    demande.save()
    assert transmettre(demande).statut == StatutDemande.TRANSMISE_PHARMACIEN


def test_r11_chaque_critere_doit_etre_atteste():
    demande = DemandeFactory(criteres=[True, None])
    refusee_avec(transmettre, demande, "R11", "Attestez chacun des critères d'octroi")


def test_r11_tous_les_criteres_attestes_aucune_justification_n_est_demandee():
    demande = DemandeFactory(justification="")
    assert transmettre(demande).statut == StatutDemande.TRANSMISE_PHARMACIEN


def test_r11_une_indication_d_une_autre_specialite_est_refusee_a_l_etape():
    demande = DemandeFactory()
    autre = DemandeFactory().indication
    with pytest.raises(DemandeError, match=r"n'est pas une indication référencée.*\(R11\)"):
        services.demande_modifier(
            demande=demande, par=demande.prescripteur, version=demande.version, donnees={"indication": autre}
        )


# --- R24 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "trait"), ACTIONS)
def test_r24_apres_la_date_de_cessation_aucune_aac_ne_peut_etre_deposee(action, trait):
    demande = DemandeFactory(**trait)
    acces = demande.indication.acces
    acces.date_cessation = timezone.localdate()
    acces.save()
    refusee_avec(action, demande, "R24", f"ont cessé le {acces.date_cessation:%d/%m/%Y}")


def test_r24_une_nouvelle_demande_pour_ce_medicament_est_refusee_des_le_choix_du_medicament():
    acces = AccesFactory(date_cessation=timezone.localdate() - datetime.timedelta(days=1))
    prescripteur = UtilisateurFactory(prescripteur=True)
    with pytest.raises(DemandeError, match=r"aucune AAC ne peut plus être déposée ni octroyée.*\(R24\)"):
        services.demande_creer(
            par=prescripteur, donnees={"type_medicament": "reference_indication", "specialite": acces.specialite}
        )


def test_r24_ni_octroyee_par_l_evaluateur_apres_la_date_de_cessation():
    demande = DemandeFactory(en_evaluation=True)
    acces = demande.indication.acces
    acces.date_cessation = timezone.localdate() - datetime.timedelta(days=1)
    acces.save()
    with pytest.raises(DemandeError, match=r"aucune AAC ne peut plus être octroyée \(R24\)"):
        services.demande_octroyer(
            demande=demande,
            par=UtilisateurFactory(evaluateur=True),
            version=demande.version,
            duree_jours=30,
            laboratoire=demande.specialite.titulaire,
            reserve_hospitalier=True,
        )
    demande.refresh_from_db()
    assert demande.statut == StatutDemande.EN_EVALUATION


# --- R25 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "trait"), ACTIONS)
def test_r25_une_aap_couvrant_l_indication_exige_que_le_patient_n_y_soit_pas_eligible(action, trait):
    demande = DemandeFactory(**trait)
    demande.indication.restriction_aap = "AAC réservée aux patients non éligibles à l'AAP de 2e ligne."
    demande.indication.save()
    refusee_avec(action, demande, "R25", "Un accès précoce (AAP) couvre cette indication")
    demande.patient_non_eligible_aap = True
    demande.save()
    assert action(demande).statut != demande.statut


def test_r25_une_aap_en_cours_sur_la_specialite_compte_aussi():
    demande = DemandeFactory()
    AccesFactory(aap=True, specialite=demande.specialite, conditions_utilisation="Patients adultes en 2e ligne.")
    refusee_avec(transmettre, demande, "R25", "Patients adultes en 2e ligne.")


# --- R17, R43, R13, R10, R7 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("duree", [0, 366, 1000])
def test_r17_une_duree_hors_1_jour_1_an_est_refusee_par_le_service_et_par_la_base(duree):
    demande = DemandeFactory()
    with pytest.raises(DemandeError, match=r"1 jour à 1 an.*\(R17\)"):
        services.demande_modifier(
            demande=demande,
            par=demande.prescripteur,
            version=demande.version,
            donnees={"duree_traitement_jours": duree},
        )
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError, match="demande_duree_1_jour_1_an"), transaction.atomic():
        DemandeAAC.objects.filter(pk=demande.pk).update(duree_traitement_jours=duree)


@pytest.mark.parametrize(("action", "trait"), ACTIONS)
def test_r17_une_duree_manquante_est_refusee(action, trait):
    demande = DemandeFactory(duree_traitement_jours=None, **trait)
    refusee_avec(action, demande, "R17", "Indiquez la durée de traitement")


@pytest.mark.parametrize(
    "saisie", ["Jean Dupont", "12/03/1970", "1 70 03 75 123 456 78", "DUPONT", "J", "jean-dupont"]
)
def test_r43_seules_les_initiales_sont_acceptees(saisie):
    demande = DemandeFactory()
    with pytest.raises(DemandeError, match=r"initiales du patient.*\(R43\)"):
        services.demande_modifier(
            demande=demande, par=demande.prescripteur, version=demande.version, donnees={"patient_initiales": saisie}
        )
    demande.refresh_from_db()
    assert demande.patient_initiales == "J.-D."


@pytest.mark.parametrize(("saisie", "enregistre"), [("jd", "JD"), ("J.-D.", "J.-D."), ("é. m", "E.M")])
def test_r43_les_initiales_sont_normalisees(saisie, enregistre):
    demande = DemandeFactory()
    demande = services.demande_modifier(
        demande=demande, par=demande.prescripteur, version=demande.version, donnees={"patient_initiales": saisie}
    )
    assert demande.patient_initiales == enregistre


def test_r43_la_demande_ne_contient_ni_nom_ni_date_de_naissance_ni_nir():
    champs = {f.name for f in DemandeAAC._meta.get_fields()}
    assert not champs & {"patient_nom", "patient_prenom", "date_naissance", "patient_date_naissance", "nir"}
    assert {"patient_initiales", "patient_age", "patient_sexe", "patient_poids_kg", "territoire"} <= champs


@pytest.mark.parametrize("champ", ["patient_initiales", "patient_sexe", "posologie"])
def test_r43_les_informations_du_patient_et_la_posologie_sont_requises(champ):
    demande = DemandeFactory(**{champ: ""})
    refusee_avec(transmettre, demande, "R43", "Indiquez")


def test_r43_age_et_poids_requis():
    demande = DemandeFactory(patient_age=None, patient_poids_kg=None)
    erreur = refusee_avec(transmettre, demande, "R43", "Indiquez l'âge du patient")
    assert "Indiquez le poids du patient" in erreur.texte


def test_r13_les_engagements_du_prescripteur_sont_requis():
    demande = DemandeFactory(engagement_surveillance=False)
    refusee_avec(transmettre, demande, "R13", "Le prescripteur s'engage")


def test_r10_la_pui_est_designee_et_le_pharmacien_y_exerce():
    demande = DemandeFactory(pui=None)
    refusee_avec(transmettre, demande, "R10", "Désignez la PUI")
    autre_pharmacien = UtilisateurFactory(pharmacien=True)
    demande = DemandeFactory()
    with pytest.raises(DemandeError, match=r"doit exercer dans la PUI choisie \(R10\)"):
        services.demande_modifier(
            demande=demande,
            par=demande.prescripteur,
            version=demande.version,
            donnees={"pharmacien": autre_pharmacien},
        )


def test_r7_sous_recherche_commerciale_le_traitement_ne_peut_pas_etre_differe():
    demande = DemandeFactory(traitement_differable=True)
    acces = demande.indication.acces
    acces.riph_commerciale = True
    acces.engagement_aap = True
    acces.save()
    refusee_avec(transmettre, demande, "R7", "recherche à des fins commerciales")


def test_plusieurs_regles_enfreintes_sont_toutes_signalees_avec_leur_champ():
    demande = DemandeFactory(territoire=Territoire.TAAF, duree_traitement_jours=None, patient_poids_kg=None)
    with pytest.raises(DemandeError) as erreur:
        transmettre(demande)
    assert {(e.regle, e.champ) for e in erreur.value.erreurs} >= {
        ("R9", "territoire"),
        ("R17", "duree_traitement_jours"),
        ("R43", "patient_poids_kg"),
    }
    assert erreur.value.texte.startswith("La demande ne peut pas être transmise : ")


def test_le_pharmacien_complete_mais_ne_remplace_pas_les_attestations_du_prescripteur():
    demande = DemandeFactory(transmise=True)
    pharmacien = UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    demande = services.demande_modifier(
        demande=demande, par=pharmacien, version=demande.version, donnees={"patient_poids_kg": Decimal("64.0")}
    )
    assert demande.patient_poids_kg == Decimal("64.0")
    assert demande.journal.get(transition="completer").details == {"champs": ["patient_poids_kg"]}
    with pytest.raises(DemandeError, match="Vous ne pouvez pas modifier"):
        services.demande_modifier(
            demande=demande, par=pharmacien, version=demande.version, donnees={"justification": "autre chose"}
        )
