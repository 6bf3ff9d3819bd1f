"""Every change to a fiche is historised (who, when, what) and shows as the fiche's "mis à jour le"."""

import datetime

import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.files.uploadedfile import SimpleUploadedFile

from referentiel import services
from referentiel.enums import EtatAcces, PhaseAAP, StatutAMM, StatutRapport, TypeAcces, TypeDocument, TypePUT
from referentiel.exceptions import ReferentielError
from referentiel.models import HistoriqueFiche, Specialite
from tests.factories.comptes import UtilisateurFactory
from tests.factories.referentiel import (
    AccesFactory,
    DocumentFactory,
    IndicationFactory,
    PUTFactory,
    RapportFactory,
    SpecialiteFactory,
    pdf_minimal,
)

pytestmark = pytest.mark.django_db

J = datetime.date


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# Each service that writes a fiche: (what it does to the fiche of an AAC, the action its history shows).
CAS = {
    "specialite_modifier": (
        lambda a, par: services.specialite_modifier(specialite=a.specialite, mitm=True, par=par),
        "Modification de la spécialité",
    ),
    "specialite_definir_composition": (
        lambda a, par: services.specialite_definir_composition(
            specialite=a.specialite, compositions=[{"substance": "ibrutinib", "dosage": "140 mg"}], par=par
        ),
        "Modification de la composition",
    ),
    "acces_creer": (
        lambda a, par: services.acces_creer(
            specialite=a.specialite, type_acces=TypeAcces.AAP, phase_aap=PhaseAAP.PRE_AMM, par=par
        ),
        "Ajout du statut AAP",
    ),
    "acces_modifier": (
        lambda a, par: services.acces_modifier(acces=a, conditions_utilisation="Usage hospitalier", par=par),
        "Modification du statut AAC",
    ),
    "acces_changer_etat": (
        lambda a, par: services.acces_changer_etat(acces=a, etat=EtatAcces.SUSPENDU, par=par),
        "Modification du statut AAC",
    ),
    "acces_enregistrer_amm": (
        lambda a, par: services.acces_enregistrer_amm(acces=a, date_amm=J(2025, 1, 2), par=par),
        "Enregistrement de l'AMM",
    ),
    "acces_prolonger_delai_aap": (
        lambda a, par: services.acces_prolonger_delai_aap(
            acces=_avec_engagement(a),
            duree_mois=3,
            motif="Motif",
            par=par,
        ),
        "Prolongation du délai de dépôt de l'AAP",
    ),
    "indication_creer": (
        lambda a, par: services.indication_creer(acces=a, libelle="Indication", criteres=["Adulte"], par=par),
        "Ajout d'une indication",
    ),
    "indication_modifier": (
        lambda a, par: services.indication_modifier(
            indication=IndicationFactory(acces=a), criteres=["Adulte"], par=par
        ),
        "Modification d'une indication",
    ),
    "indication_supprimer": (
        lambda a, par: services.indication_supprimer(indication=IndicationFactory(acces=a), par=par),
        "Retrait d'une indication",
    ),
    "put_creer": (
        lambda a, par: services.put_creer(acces=a, type_put=TypePUT.PUT_SP, crpv="CRPV de Lyon", par=par),
        "Ajout du PUT-SP",
    ),
    "put_modifier": (
        lambda a, par: services.put_modifier(put=PUTFactory(acces=a), crpv="CRPV de Nantes", par=par),
        "Modification du PUT-SP",
    ),
    "document_ajouter": (
        lambda a, par: services.document_ajouter(
            specialite=a.specialite,
            type_document=TypeDocument.RCP,
            titre="RCP",
            fichier=SimpleUploadedFile("rcp.pdf", pdf_minimal()),
            par=par,
        ),
        "Ajout d'un document",
    ),
    "document_modifier": (
        lambda a, par: services.document_modifier(
            document=DocumentFactory(specialite=a.specialite), titre="X", par=par
        ),
        "Modification d'un document",
    ),
    "document_supprimer": (
        lambda a, par: services.document_supprimer(document=DocumentFactory(specialite=a.specialite), par=par),
        "Retrait d'un document",
    ),
    "rapport_creer": (
        lambda a, par: services.rapport_creer(
            acces=a, periode_debut=J(2024, 1, 1), periode_fin=J(2024, 6, 30), date_echeance=J(2024, 8, 31), par=par
        ),
        "Rapport de synthèse attendu",
    ),
    "rapport_recevoir": (
        lambda a, par: services.rapport_recevoir(rapport=RapportFactory(acces=a), par=par),
        "Rapport de synthèse reçu",
    ),
    "rapport_evaluer": (
        lambda a, par: services.rapport_evaluer(rapport=RapportFactory(acces=a, statut=StatutRapport.RECU), par=par),
        "Rapport de synthèse en évaluation",
    ),
    "rapport_valider": (
        lambda a, par: services.rapport_valider(
            rapport=RapportFactory(acces=a, statut=StatutRapport.RECU), resume="Résumé", par=par
        ),
        "Résumé de rapport validé",
    ),
    "rapport_publier_resume": (
        lambda a, par: services.rapport_publier_resume(
            rapport=RapportFactory(acces=a, statut=StatutRapport.VALIDE, resume="Résumé"), par=par
        ),
        "Publication d'un résumé de rapport",
    ),
}


def _avec_engagement(acces):
    acces.riph_commerciale = acces.engagement_aap = True
    acces.date_premiere_aac = J(2024, 1, 15)
    acces.save()
    return acces


@pytest.mark.parametrize("service", sorted(CAS))
def test_every_change_to_a_fiche_appends_who_when_what_and_bumps_mis_a_jour_le(service):
    par = UtilisateurFactory(evaluateur=True)
    acces = AccesFactory(specialite=SpecialiteFactory(statut_amm=StatutAMM.AUCUNE))
    specialite = acces.specialite
    Specialite.objects.filter(pk=specialite.pk).update(
        mis_a_jour_le=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    HistoriqueFiche.objects.all().delete()
    effectuer, action = CAS[service]

    effectuer(acces, par)

    historique = HistoriqueFiche.objects.get(specialite=specialite)
    assert (historique.auteur, historique.action) == (par, action)
    assert historique.apres or historique.avant
    specialite.refresh_from_db()
    assert specialite.mis_a_jour_le == historique.le


def test_creating_a_fiche_is_historised_and_the_new_fiche_is_searchable_at_once():
    par = UtilisateurFactory(administrateur=True)
    specialite = services.specialite_creer(
        nom="RISDIPLAM 0,75 mg/ml", compositions=[{"substance": "risdiplam", "dosage": "0,75 mg/ml"}], par=par
    )
    historique = HistoriqueFiche.objects.get(specialite=specialite)
    assert (historique.auteur, historique.action, historique.avant) == (par, "Création de la fiche", {})
    assert specialite.mis_a_jour_le == historique.le
    assert Specialite.objects.filter(
        pk=specialite.pk, document_recherche=SearchQuery("risdiplam", config="french_unaccent")
    ).exists()


def test_a_refused_change_leaves_no_history_and_no_change():
    acces = AccesFactory()
    with pytest.raises(ReferentielError, match="R24"):
        services.acces_modifier(acces=acces, date_cessation=J(2025, 1, 1), par=UtilisateurFactory(evaluateur=True))
    assert not HistoriqueFiche.objects.exists()
    acces.refresh_from_db()
    assert acces.date_cessation is None
