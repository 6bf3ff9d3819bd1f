"""R24: after its AMM, AAC stop for a medicine on the date the ANSM set — no AAC filed or granted from that day
(the request services refuse it), and the prescribers whose requests are still open are told once."""

import datetime

import pytest

from demandes import services
from demandes.exceptions import DemandeError
from demandes.tasks import aac_cessations_prevenir
from referentiel import services as referentiel_services
from tests.factories import DemandeFactory, UtilisateurFactory

from .conftest import le, rappels

pytestmark = pytest.mark.django_db

AMM = datetime.date(2026, 5, 4)
CESSATION = datetime.date(2026, 7, 1)


@pytest.fixture
def brouillon():
    demande = DemandeFactory(patient_initiales="Z.Q.")
    acces = demande.indication.acces
    with le(AMM):
        referentiel_services.acces_enregistrer_amm(acces=acces, date_amm=AMM, date_cessation=CESSATION)
    return demande


def test_r24_la_veille_une_aac_se_depose_encore_le_jour_meme_plus_aucune(brouillon):
    autre = DemandeFactory(indication=brouillon.indication, specialite=brouillon.specialite)
    with le(CESSATION - datetime.timedelta(days=1)):
        services.demande_transmettre(demande=autre, par=autre.prescripteur, version=autre.version)
    with le(CESSATION), pytest.raises(DemandeError) as erreur:
        services.demande_transmettre(demande=brouillon, par=brouillon.prescripteur, version=brouillon.version)
    assert erreur.value.regle == "R24"
    assert "ont cessé le 01/07/2026" in erreur.value.texte


def test_r24_une_demande_en_evaluation_ne_peut_plus_etre_octroyee_apres_la_date(brouillon):
    evaluee = DemandeFactory(en_evaluation=True, indication=brouillon.indication, specialite=brouillon.specialite)
    evaluateur = UtilisateurFactory(evaluateur=True)
    with le(CESSATION + datetime.timedelta(days=10)), pytest.raises(DemandeError) as erreur:
        services.demande_octroyer(
            demande=evaluee,
            par=evaluateur,
            version=evaluee.version,
            duree_jours=90,
            laboratoire=evaluee.specialite.titulaire,
            reserve_hospitalier=True,
        )
    assert erreur.value.regle == "R24"
    assert "aucune AAC ne peut plus être octroyée" in erreur.value.texte
    evaluee.refresh_from_db()
    assert evaluee.statut == "en_evaluation"


def test_r24_les_prescripteurs_aux_demandes_ouvertes_sont_prevenus_une_fois(brouillon):
    prescripteur = brouillon.prescripteur
    seconde = DemandeFactory(
        en_evaluation=True, prescripteur=prescripteur, indication=brouillon.indication, specialite=brouillon.specialite
    )
    decide = DemandeFactory(octroyee=True, indication=brouillon.indication, specialite=brouillon.specialite)
    ailleurs = DemandeFactory()  # another medicine
    with le(CESSATION - datetime.timedelta(days=1)):
        assert aac_cessations_prevenir() == {"rappels": 0}
    with le(CESSATION):
        assert aac_cessations_prevenir() == {"rappels": 1}
    with le(CESSATION + datetime.timedelta(days=1)):
        assert aac_cessations_prevenir() == {"rappels": 0}
    envoyes = rappels("aac-cessation:")
    assert list(envoyes) == [prescripteur.email]
    avis = envoyes[prescripteur.email]
    assert avis.sujet == f"Fin des AAC de {brouillon.specialite.nom} le 01/07/2026"
    assert "plus aucune autorisation d'accès compassionnel (AAC) n'est déposée ni octroyée" in avis.corps
    for demande in (brouillon, seconde):
        assert f"- {demande.reference} : https://referentiel-ad.example/demandes/{demande.reference}/" in avis.corps
    assert decide.reference not in avis.corps and ailleurs.prescripteur.email not in envoyes
    assert "Z.Q." not in avis.corps
