"""Services that write fiches: each rule they enforce, with its French message and rule number."""

import datetime

import pytest
from django.contrib.postgres.search import SearchQuery

from referentiel import services
from referentiel.enums import EtatAcces, PhaseAAP, StatutAMM, StatutRapport, TypeAcces, TypePUT
from referentiel.exceptions import ReferentielError
from referentiel.models import AccesDerogatoire, CritereOctroi, HistoriqueFiche, ProlongationEngagementAAP, Specialite
from tests.factories.comptes import UtilisateurFactory
from tests.factories.referentiel import (
    AccesFactory,
    CritereFactory,
    IndicationFactory,
    LaboratoireFactory,
    PUTFactory,
    RapportFactory,
    SpecialiteFactory,
)

pytestmark = pytest.mark.django_db

J = datetime.date


@pytest.fixture
def evaluateur():
    return UtilisateurFactory(evaluateur=True)


def cherche(texte: str):
    return Specialite.objects.filter(document_recherche=SearchQuery(texte, config="french_unaccent"))


# --- Spécialités ------------------------------------------------------------------------------------------------


def test_specialite_creer_gives_a_unique_address_indexes_and_historises_the_fiche(evaluateur):
    labo = LaboratoireFactory(nom="Janssen-Cilag", est_exploitant=False)
    premiere = services.specialite_creer(
        nom="IMBRUVICA 140 mg, gélule",
        par=evaluateur,
        exploitant=labo,
        code_atc="l01el01",
        compositions=[{"substance": "ibrutinib", "dosage": "140 mg"}],
    )
    seconde = services.specialite_creer(nom="IMBRUVICA 140 mg, gélule", par=evaluateur)

    assert premiere.slug == "imbruvica-140-mg-gelule"
    assert seconde.slug == "imbruvica-140-mg-gelule-2"
    assert premiere.code_atc == "L01EL01"
    labo.refresh_from_db()
    assert labo.est_exploitant  # R29: its role follows the fiches that name it
    assert list(cherche("ibrutinib")) == [premiere]
    historique = HistoriqueFiche.objects.get(specialite=premiere)
    assert (historique.auteur, historique.action) == (evaluateur, "Création de la fiche")
    assert historique.apres["nom"] == "IMBRUVICA 140 mg, gélule"
    assert historique.apres["exploitant"] == "Janssen-Cilag"
    assert historique.apres["composition"] == ["ibrutinib 140 mg"]


def test_specialite_creer_refuses_an_invalid_or_already_used_cis_code(evaluateur):
    SpecialiteFactory(cis="60000001")
    with pytest.raises(ReferentielError, match="8 chiffres") as erreur:
        services.specialite_creer(nom="X", cis="123", par=evaluateur)
    assert erreur.value.champ == "cis"
    with pytest.raises(ReferentielError, match="Une autre spécialité porte déjà le code CIS 60000001"):
        services.specialite_creer(nom="X", cis="60000001", par=evaluateur)


def test_r28_a_hospital_only_medicine_cannot_be_on_the_retrocession_list(evaluateur):
    with pytest.raises(ReferentielError) as erreur:
        services.specialite_creer(nom="X", reserve_hospitalier=True, retrocession=True, par=evaluateur)
    assert erreur.value.regle == "R28"
    assert str(erreur.value).endswith("(R28)")
    assert not Specialite.objects.exists()


def test_an_amm_status_needs_its_date_and_no_amm_has_none(evaluateur):
    with pytest.raises(ReferentielError, match="Indiquez la date de l'AMM"):
        services.specialite_creer(nom="X", statut_amm=StatutAMM.AUTORISEE, par=evaluateur)
    with pytest.raises(ReferentielError, match="sans AMM en France n'a pas de date d'AMM"):
        services.specialite_creer(nom="X", date_amm=J(2020, 1, 1), par=evaluateur)


def test_only_the_ansm_and_administrators_change_a_fiche():
    specialite = SpecialiteFactory()
    for role in ("prescripteur", "pharmacien", "laboratoire_role"):
        with pytest.raises(ReferentielError, match="Seuls les évaluateurs de l'ANSM et les administrateurs"):
            services.specialite_modifier(specialite=specialite, nom="Autre", par=UtilisateurFactory(**{role: True}))
    services.specialite_modifier(specialite=specialite, nom="Autre", par=UtilisateurFactory(administrateur=True))
    specialite.refresh_from_db()
    assert specialite.nom == "Autre"


def test_specialite_modifier_records_only_what_changed_and_reindexes(evaluateur):
    specialite = SpecialiteFactory(nom="ANCIEN NOM", mitm=False)
    avant = specialite.mis_a_jour_le

    services.specialite_modifier(specialite=specialite, par=evaluateur, nom="TAFAMIDIS GÉNÉRIQUE", mitm=False)

    specialite.refresh_from_db()
    assert specialite.mis_a_jour_le > avant
    historique = HistoriqueFiche.objects.get(specialite=specialite)
    assert (historique.avant, historique.apres) == ({"nom": "ANCIEN NOM"}, {"nom": "TAFAMIDIS GÉNÉRIQUE"})
    assert list(cherche("generique")) == [specialite]


def test_a_call_that_changes_nothing_writes_nothing(evaluateur):
    specialite = SpecialiteFactory(nom="INCHANGÉ")
    services.specialite_modifier(specialite=specialite, par=evaluateur, nom="INCHANGÉ")
    assert not HistoriqueFiche.objects.exists()


def test_specialite_definir_composition_reuses_a_substance_whatever_its_case(evaluateur):
    specialite = SpecialiteFactory(dci="lorlatinib")
    services.specialite_definir_composition(
        specialite=specialite,
        par=evaluateur,
        compositions=[{"substance": "LORLATINIB", "dosage": "100 mg"}, {"substance": "excipient x", "dosage": ""}],
    )
    assert sorted(specialite.compositions.values_list("substance__dci", "dosage")) == [
        ("excipient x", ""),
        ("lorlatinib", "100 mg"),
    ]
    historique = HistoriqueFiche.objects.get(specialite=specialite)
    assert historique.avant == {"composition": ["lorlatinib 140 mg"]}


# --- Accès dérogatoires -----------------------------------------------------------------------------------------


def test_r24_cessation_date_at_most_three_months_after_the_amm(evaluateur):
    specialite = SpecialiteFactory(statut_amm=StatutAMM.AUTORISEE, date_amm=J(2024, 11, 30))
    with pytest.raises(ReferentielError, match="soit le 28/02/2025 au plus tard") as erreur:
        services.acces_creer(
            specialite=specialite,
            type_acces=TypeAcces.AAC,
            date_debut=J(2023, 1, 1),
            date_cessation=J(2025, 3, 1),
            par=evaluateur,
        )
    assert erreur.value.regle == "R24"
    with pytest.raises(ReferentielError, match="R24"):
        services.acces_creer(
            specialite=specialite, type_acces=TypeAcces.AAC, date_cessation=J(2024, 11, 1), par=evaluateur
        )
    acces = services.acces_creer(
        specialite=specialite, type_acces=TypeAcces.AAC, date_cessation=J(2025, 2, 28), par=evaluateur
    )
    assert acces.date_cessation == J(2025, 2, 28)


def test_r24_no_cessation_date_without_an_amm_nor_on_another_status(evaluateur):
    specialite = SpecialiteFactory()
    with pytest.raises(ReferentielError, match="enregistrez d'abord l'AMM"):
        services.acces_creer(
            specialite=specialite, type_acces=TypeAcces.AAC, date_cessation=J(2025, 1, 1), par=evaluateur
        )
    with pytest.raises(ReferentielError, match="Seul un AAC a une date de cessation"):
        services.acces_creer(
            specialite=specialite,
            type_acces=TypeAcces.CPC,
            date_debut=J(2024, 1, 1),
            date_cessation=J(2025, 1, 1),
            par=evaluateur,
        )


def test_r24_acces_enregistrer_amm_sets_the_amm_and_a_cessation_three_months_later(evaluateur):
    acces = AccesFactory()

    services.acces_enregistrer_amm(acces=acces, date_amm=J(2025, 1, 31), par=evaluateur)

    acces.refresh_from_db()
    acces.specialite.refresh_from_db()
    assert (acces.specialite.statut_amm, acces.specialite.date_amm) == (StatutAMM.AUTORISEE, J(2025, 1, 31))
    assert acces.date_cessation == J(2025, 4, 30)
    historique = HistoriqueFiche.objects.get(specialite=acces.specialite)
    assert historique.action == "Enregistrement de l'AMM"
    assert historique.apres == {"statut_amm": "autorisee", "date_amm": "2025-01-31", "date_cessation": "2025-04-30"}


def test_r7_an_aac_under_commercial_research_needs_the_laboratory_commitment(evaluateur):
    with pytest.raises(ReferentielError, match="s'engage à déposer une demande d'AAP") as erreur:
        services.acces_creer(
            specialite=SpecialiteFactory(), type_acces=TypeAcces.AAC, riph_commerciale=True, par=evaluateur
        )
    assert erreur.value.regle == "R7"


def test_r23_aap_deadline_is_12_months_from_the_first_aac_and_18_for_a_rare_disease(evaluateur):
    acces = services.acces_creer(
        specialite=SpecialiteFactory(),
        type_acces=TypeAcces.AAC,
        date_debut=J(2024, 1, 15),
        riph_commerciale=True,
        engagement_aap=True,
        par=evaluateur,
    )
    assert (acces.date_premiere_aac, acces.date_limite_depot_aap) == (J(2024, 1, 15), J(2025, 1, 15))

    indication = services.indication_creer(
        acces=acces, libelle="Amylose à transthyrétine", maladie_rare=True, par=evaluateur
    )
    acces.refresh_from_db()
    assert acces.date_limite_depot_aap == J(2025, 7, 15)
    historique = HistoriqueFiche.objects.filter(action="Ajout d'une indication").get()
    assert historique.avant == {"date_limite_depot_aap": "2025-01-15"}
    assert historique.apres["date_limite_depot_aap"] == "2025-07-15"

    services.indication_modifier(indication=indication, maladie_rare=False, par=evaluateur)
    acces.refresh_from_db()
    assert acces.date_limite_depot_aap == J(2025, 1, 15)


def test_r23_the_ansm_extends_the_deadline_by_at_most_six_months_each_time(evaluateur):
    acces = AccesFactory(riph=True)
    acces.date_limite_depot_aap = None
    acces.save()

    services.acces_prolonger_delai_aap(acces=acces, duree_mois=6, motif="Inclusions plus lentes", par=evaluateur)
    services.acces_prolonger_delai_aap(acces=acces, duree_mois=3, motif="Retard du CPP", par=evaluateur)

    acces.refresh_from_db()
    assert acces.date_limite_depot_aap == J(2025, 10, 15)
    assert list(acces.prolongations.values_list("duree_mois", "accordee_par")) == [
        (6, evaluateur.pk),
        (3, evaluateur.pk),
    ]
    with pytest.raises(ReferentielError, match="de 1 à 6 mois au plus") as erreur:
        services.acces_prolonger_delai_aap(acces=acces, duree_mois=7, motif="Trop long", par=evaluateur)
    assert erreur.value.regle == "R23"
    with pytest.raises(ReferentielError, match="demande motivée"):
        services.acces_prolonger_delai_aap(acces=acces, duree_mois=2, motif=" ", par=evaluateur)
    assert ProlongationEngagementAAP.objects.count() == 2


def test_r23_no_extension_without_a_commitment_to_file_an_aap(evaluateur):
    with pytest.raises(ReferentielError, match="R23"):
        services.acces_prolonger_delai_aap(acces=AccesFactory(), duree_mois=3, motif="Motif", par=evaluateur)


def test_r38_a_cpc_lasts_three_years(evaluateur):
    specialite = SpecialiteFactory(statut_amm=StatutAMM.AUTORISEE, date_amm=J(2010, 5, 1))
    cpc = services.acces_creer(
        specialite=specialite, type_acces=TypeAcces.CPC, date_debut=J(2024, 2, 29), par=evaluateur
    )
    assert cpc.date_fin == J(2027, 2, 28)
    with pytest.raises(ReferentielError, match="3 ans au plus") as erreur:
        services.acces_modifier(acces=cpc, date_fin=J(2027, 3, 1), par=evaluateur)
    assert erreur.value.regle == "R38"


def test_r37_an_aap_states_its_phase_and_a_post_amm_aap_needs_an_amm(evaluateur):
    specialite = SpecialiteFactory()
    with pytest.raises(ReferentielError, match="pré-AMM.*post-AMM") as erreur:
        services.acces_creer(specialite=specialite, type_acces=TypeAcces.AAP, par=evaluateur)
    assert erreur.value.regle == "R37"
    with pytest.raises(ReferentielError, match="post-AMM suppose une AMM"):
        services.acces_creer(
            specialite=specialite, type_acces=TypeAcces.AAP, phase_aap=PhaseAAP.POST_AMM, par=evaluateur
        )
    with pytest.raises(ReferentielError, match="Seul un accès précoce a une phase"):
        services.acces_creer(
            specialite=specialite, type_acces=TypeAcces.AAC, phase_aap=PhaseAAP.PRE_AMM, par=evaluateur
        )


def test_r25_a_pre_amm_aap_reserves_the_aac_to_patients_it_does_not_cover(evaluateur):
    aac = AccesFactory()
    indication = IndicationFactory(acces=aac)
    CritereFactory(indication=indication, libelle="Adulte de 18 ans ou plus", ordre=1)

    services.acces_creer(
        specialite=aac.specialite,
        type_acces=TypeAcces.AAP,
        phase_aap=PhaseAAP.PRE_AMM,
        date_debut=J(2025, 3, 1),
        date_decision_has=J(2025, 2, 20),
        par=evaluateur,
    )

    indication.refresh_from_db()
    assert indication.restriction_aap.startswith("Accès précoce (AAP pré-AMM) en cours depuis le 20/02/2025")
    assert list(indication.criteres.values_list("libelle", flat=True)) == [
        "Adulte de 18 ans ou plus",
        "Le patient n'est pas éligible à l'accès précoce (AAP) en cours pour ce médicament.",
    ]
    historique = HistoriqueFiche.objects.get(action="Ajout du statut AAP")
    assert historique.apres["indications_aac_restreintes"] == [indication.libelle]

    # An AAC indication referenced later is narrowed the same way.
    nouvelle = services.indication_creer(acces=aac, libelle="Autre indication", criteres=["Critère A"], par=evaluateur)
    assert nouvelle.restriction_aap
    assert nouvelle.criteres.count() == 2


def test_one_status_of_each_type_en_cours_per_specialite(evaluateur):
    aac = AccesFactory()
    with pytest.raises(ReferentielError, match="déjà un statut AAC en cours"):
        services.acces_creer(specialite=aac.specialite, type_acces=TypeAcces.AAC, par=evaluateur)
    services.acces_changer_etat(acces=aac, etat=EtatAcces.TERMINE, date_fin=J(2024, 6, 30), par=evaluateur)
    services.acces_creer(specialite=aac.specialite, type_acces=TypeAcces.AAC, precedent=aac, par=evaluateur)
    assert AccesDerogatoire.objects.filter(specialite=aac.specialite).count() == 2


def test_a_terminated_status_does_not_resume(evaluateur):
    acces = AccesFactory(termine=True)
    with pytest.raises(ReferentielError, match="Un statut terminé ne reprend pas"):
        services.acces_changer_etat(acces=acces, etat=EtatAcces.EN_COURS, par=evaluateur)


def test_suspending_a_status_is_historised_with_the_state_before_and_after(evaluateur):
    acces = AccesFactory()
    services.acces_changer_etat(acces=acces, etat=EtatAcces.SUSPENDU, par=evaluateur)
    historique = HistoriqueFiche.objects.get()
    assert (historique.action, historique.avant, historique.apres) == (
        "Modification du statut AAC",
        {"etat": "en_cours"},
        {"etat": "suspendu"},
    )


def test_historical_statuses_end_on_1_july_2021_and_name_their_successor(evaluateur):
    specialite = SpecialiteFactory()
    with pytest.raises(ReferentielError, match="n'existent plus depuis le 1er juillet 2021"):
        services.acces_creer(
            specialite=specialite, type_acces=TypeAcces.ATUN, date_debut=J(2022, 1, 1), par=evaluateur
        )
    atu = services.acces_creer(
        specialite=specialite,
        type_acces=TypeAcces.ATUN,
        etat=EtatAcces.TERMINE,
        date_debut=J(2019, 1, 1),
        date_fin=J(2021, 6, 30),
        par=evaluateur,
    )
    with pytest.raises(ReferentielError, match="a pour successeur un AAC"):
        services.acces_creer(specialite=specialite, type_acces=TypeAcces.CPC, precedent=atu, par=evaluateur)
    aac = services.acces_creer(specialite=specialite, type_acces=TypeAcces.AAC, precedent=atu, par=evaluateur)
    assert aac.precedent == atu
    with pytest.raises(ReferentielError, match="même spécialité"):
        services.acces_creer(specialite=SpecialiteFactory(), type_acces=TypeAcces.AAC, precedent=atu, par=evaluateur)


# --- Indications and critères d'octroi ----------------------------------------------------------------------------


def test_indication_creer_records_its_criteria_in_order_and_publishes_them(evaluateur):
    acces = AccesFactory()
    indication = services.indication_creer(
        acces=acces,
        libelle="Lymphome du manteau en rechute",
        criteres=["  Patient adulte ", "Au moins deux lignes antérieures", ""],
        par=evaluateur,
    )
    assert list(indication.criteres.values_list("ordre", "libelle")) == [
        (1, "Patient adulte"),
        (2, "Au moins deux lignes antérieures"),
    ]
    assert indication.publiee_le is not None  # R45: published once referenced
    assert list(cherche("lymphomes")) == [acces.specialite]


def test_the_same_criterion_twice_is_refused(evaluateur):
    with pytest.raises(ReferentielError, match="figure deux fois"):
        services.indication_creer(acces=AccesFactory(), libelle="X", criteres=["Adulte", "adulte"], par=evaluateur)


def test_indication_modifier_replaces_the_criteria_and_keeps_the_old_list_in_the_history(evaluateur):
    indication = IndicationFactory()
    CritereFactory(indication=indication, libelle="Ancien critère", ordre=1)

    services.indication_modifier(indication=indication, criteres=["Nouveau 1", "Nouveau 2"], par=evaluateur)

    assert list(CritereOctroi.objects.values_list("libelle", flat=True)) == ["Nouveau 1", "Nouveau 2"]
    historique = HistoriqueFiche.objects.get()
    assert historique.avant == {"criteres": ["Ancien critère"]}
    assert historique.apres == {"criteres": ["Nouveau 1", "Nouveau 2"]}


def test_indication_supprimer_keeps_the_withdrawn_indication_in_the_history(evaluateur):
    indication = IndicationFactory(libelle="Indication retirée")
    CritereFactory(indication=indication, libelle="Critère retiré")
    services.indication_supprimer(indication=indication, par=evaluateur)
    historique = HistoriqueFiche.objects.get()
    assert historique.action == "Retrait d'une indication"
    assert historique.avant["criteres"] == ["Critère retiré"]


# --- PUT ------------------------------------------------------------------------------------------------------------


def test_an_aap_follows_a_put_rd_and_an_aac_a_put_sp(evaluateur):
    with pytest.raises(ReferentielError, match="choisissez un PUT-SP"):
        services.put_creer(acces=AccesFactory(), type_put=TypePUT.PUT_RD, par=evaluateur)
    put = services.put_creer(acces=AccesFactory(aap=True), type_put=TypePUT.PUT_RD, par=evaluateur)
    assert put.type_put == TypePUT.PUT_RD


def test_r34_a_put_with_data_collection_sets_the_periodicity_of_reports(evaluateur):
    with pytest.raises(ReferentielError) as erreur:
        services.put_creer(acces=AccesFactory(), type_put=TypePUT.PUT_SP, recueil_nominatif=True, par=evaluateur)
    assert erreur.value.regle == "R34"
    with pytest.raises(ReferentielError, match="de 1 à 60"):
        services.put_creer(acces=AccesFactory(), type_put=TypePUT.PUT_SP, periodicite_rapports_mois=0, par=evaluateur)


def test_r33_a_validated_put_sp_names_its_crpv(evaluateur):
    with pytest.raises(ReferentielError, match="CRPV") as erreur:
        services.put_creer(
            acces=AccesFactory(), type_put=TypePUT.PUT_SP, date_validation=J(2024, 3, 1), par=evaluateur
        )
    assert erreur.value.regle == "R33"


def test_r32_the_laboratory_proposes_a_put_only_for_its_own_product_and_never_validates_it():
    acces = AccesFactory()
    labo = UtilisateurFactory(laboratoire_role=True, laboratoire=acces.specialite.titulaire)

    put = services.put_creer(acces=acces, type_put=TypePUT.PUT_SP, crpv="CRPV de Lyon", par=labo)

    assert put.est_proposition
    assert HistoriqueFiche.objects.get().action == "Proposition de PUT par le laboratoire"
    with pytest.raises(ReferentielError, match="seule l'ANSM le valide"):
        services.put_creer(
            acces=acces, type_put=TypePUT.PUT_SP, version="2", crpv="X", date_validation=J(2024, 1, 1), par=labo
        )
    with pytest.raises(ReferentielError, match="titulaire ou exploitant de cette spécialité"):
        services.put_creer(
            acces=acces, type_put=TypePUT.PUT_SP, version="3", par=UtilisateurFactory(laboratoire_role=True)
        )


def test_put_modifier_validates_a_proposal(evaluateur):
    put = PUTFactory(proposition=True, version="2")
    services.put_modifier(put=put, est_proposition=False, date_validation=J(2024, 5, 2), par=evaluateur)
    put.refresh_from_db()
    assert (put.est_proposition, put.date_validation) == (False, J(2024, 5, 2))


# --- Periodic reports -----------------------------------------------------------------------------------------------


def test_r34_r35_a_report_is_received_evaluated_validated_and_its_resume_published(evaluateur):
    acces = AccesFactory()
    rapport = services.rapport_creer(
        acces=acces,
        periode_debut=J(2024, 1, 15),
        periode_fin=J(2024, 7, 14),
        date_echeance=J(2024, 9, 14),
        par=evaluateur,
    )
    labo = UtilisateurFactory(laboratoire_role=True, laboratoire=acces.specialite.titulaire)
    services.rapport_recevoir(rapport=rapport, date_reception=J(2024, 9, 1), par=labo)
    services.rapport_evaluer(rapport=rapport, par=evaluateur)
    with pytest.raises(ReferentielError, match="rédigez-le avant de valider"):
        services.rapport_valider(rapport=rapport, resume="  ", par=evaluateur)
    services.rapport_valider(
        rapport=rapport, resume="Aucun signal nouveau.", date_validation=J(2024, 10, 1), par=evaluateur
    )

    rapport.refresh_from_db()
    assert (rapport.statut, rapport.resume_publie_le) == (StatutRapport.VALIDE, J(2024, 10, 1))
    assert list(HistoriqueFiche.objects.order_by("le").values_list("action", "auteur")) == [
        ("Rapport de synthèse attendu", evaluateur.pk),
        ("Rapport de synthèse reçu", labo.pk),
        ("Rapport de synthèse en évaluation", evaluateur.pk),
        ("Résumé de rapport validé", evaluateur.pk),
    ]


def test_r35_a_report_cannot_skip_its_reception_and_only_a_validated_resume_is_published(evaluateur):
    rapport = RapportFactory()
    with pytest.raises(ReferentielError, match="« Attendu » ne peut pas passer à « Validé »") as erreur:
        services.rapport_valider(rapport=rapport, resume="Résumé", par=evaluateur)
    assert erreur.value.regle == "R35"
    with pytest.raises(ReferentielError, match="Seul le résumé validé"):
        services.rapport_publier_resume(rapport=rapport, par=evaluateur)


def test_a_validated_resume_kept_unpublished_can_be_published_later(evaluateur):
    rapport = RapportFactory(statut=StatutRapport.RECU, date_reception=J(2024, 9, 1))
    services.rapport_valider(rapport=rapport, resume="Résumé", publier=False, par=evaluateur)
    rapport.refresh_from_db()
    assert rapport.resume_publie_le is None
    services.rapport_publier_resume(rapport=rapport, par=evaluateur)
    rapport.refresh_from_db()
    assert rapport.resume_publie_le is not None


def test_the_echeance_of_a_report_follows_its_period(evaluateur):
    with pytest.raises(ReferentielError, match="son échéance suit la fin de la période"):
        services.rapport_creer(
            acces=AccesFactory(),
            periode_debut=J(2024, 1, 1),
            periode_fin=J(2024, 6, 30),
            date_echeance=J(2024, 6, 1),
            par=evaluateur,
        )


def test_r38_a_cpc_frames_a_medicine_that_has_an_amm(evaluateur):
    with pytest.raises(ReferentielError, match="hors AMM d'un médicament qui a une AMM") as erreur:
        services.acces_creer(specialite=SpecialiteFactory(), type_acces=TypeAcces.CPC, par=evaluateur)
    assert erreur.value.regle == "R38"


def test_r5_no_aac_for_a_medicine_with_an_amm_unless_its_cessation_date_is_set(evaluateur):
    specialite = SpecialiteFactory(statut_amm=StatutAMM.AUTORISEE, date_amm=J(2024, 6, 1))
    with pytest.raises(ReferentielError, match="n'obtient pas d'AAC") as erreur:
        services.acces_creer(specialite=specialite, type_acces=TypeAcces.AAC, par=evaluateur)
    assert erreur.value.regle == "R5"
    termine = services.acces_creer(
        specialite=specialite,
        type_acces=TypeAcces.AAC,
        etat=EtatAcces.TERMINE,
        date_debut=J(2023, 1, 1),
        date_fin=J(2024, 8, 31),
        par=evaluateur,
    )
    assert termine.etat == EtatAcces.TERMINE
