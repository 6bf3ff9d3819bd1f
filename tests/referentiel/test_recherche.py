"""R3: find a product fast by name, DCI, indication or laboratory, whatever the accents, word forms or typos."""

import re

import pytest

from referentiel.filters import SpecialiteFilterSet
from tests.factories.referentiel import (
    AccesFactory,
    IndicationFactory,
    LaboratoireFactory,
    SpecialiteFactory,
    indexer_specialites,
)

pytestmark = pytest.mark.django_db


def rechercher(texte: str, **filtres) -> list[str]:
    """Names found by the shared FilterSet, in the order it returns them."""
    filterset = SpecialiteFilterSet({"q": texte, **filtres})
    assert filterset.is_valid(), filterset.errors
    return [s.nom for s in filterset.qs]


def noms_affiches(reponse) -> list[str]:
    return re.findall(r'<a class="fr-link" href="/referentiel/[^/"]+/">([^<]+)</a>', reponse.content.decode())


@pytest.fixture
def referentiel():
    imbruvica = SpecialiteFactory(
        nom="IMBRUVICA 140 mg, gélule", dci="ibrutinib", titulaire=LaboratoireFactory(nom="Janssen-Cilag")
    )
    IndicationFactory(
        acces=AccesFactory(specialite=imbruvica),
        libelle="Lymphome à cellules du manteau en rechute après au moins une ligne de traitement",
    )
    keytruda = SpecialiteFactory(
        nom="KEYTRUDA 25 mg/mL, solution à diluer", dci="pembrolizumab", titulaire=LaboratoireFactory(nom="MSD")
    )
    IndicationFactory(
        acces=AccesFactory(specialite=keytruda, aap=True),
        libelle="Carcinome urothélial chez des patients traités à l'hôpital de jour",
    )
    zolgensma = SpecialiteFactory(nom="ZOLGENSMA 2 x 10^13 génomes de vecteur/mL", dci="onasemnogene abeparvovec")
    IndicationFactory(
        acces=AccesFactory(specialite=zolgensma), libelle="Amyotrophie spinale de type 1 chez le nourrisson"
    )
    indexer_specialites()


def test_r3_hopital_sans_accent_trouve_hopital_avec_accent(referentiel):
    assert rechercher("hopital") == ["KEYTRUDA 25 mg/mL, solution à diluer"]
    assert rechercher("HÔPITAL") == ["KEYTRUDA 25 mg/mL, solution à diluer"]


def test_r3_lymphomes_au_pluriel_trouve_lymphome_au_singulier(referentiel):
    assert rechercher("lymphomes") == ["IMBRUVICA 140 mg, gélule"]


def test_r3_ibrutinibe_mal_orthographie_trouve_ibrutinib(referentiel):
    assert rechercher("ibrutinibe") == ["IMBRUVICA 140 mg, gélule"]


def test_r3_une_faute_de_frappe_que_la_racinisation_ne_corrige_pas_passe_par_les_trigrammes(referentiel):
    # "ibrutnib" has no French stem in common with "ibrutinib": only pg_trgm word similarity can find it.
    assert rechercher("ibrutnib") == ["IMBRUVICA 140 mg, gélule"]
    assert rechercher("pembrolizunab") == ["KEYTRUDA 25 mg/mL, solution à diluer"]


def test_r3_recherche_par_laboratoire_et_par_nom(referentiel):
    assert rechercher("janssen") == ["IMBRUVICA 140 mg, gélule"]
    assert rechercher("zolgensma") == ["ZOLGENSMA 2 x 10^13 génomes de vecteur/mL"]


def test_r3_plusieurs_mots_doivent_tous_correspondre(referentiel):
    assert rechercher("amyotrophie nourrisson") == ["ZOLGENSMA 2 x 10^13 génomes de vecteur/mL"]
    assert rechercher("amyotrophie lymphome") == []


def test_r3_un_mot_absent_ne_trouve_rien(referentiel):
    assert rechercher("paracetamol") == []


def test_r3_le_nom_et_la_dci_passent_avant_l_indication_dans_la_pertinence():
    par_indication = SpecialiteFactory(nom="AAA 10 mg", dci="adalimumab")
    IndicationFactory(acces=AccesFactory(specialite=par_indication), libelle="Relais après échec du nivolumab")
    par_dci = SpecialiteFactory(nom="ZZZ 40 mg", dci="nivolumab")
    AccesFactory(specialite=par_dci)
    indexer_specialites()
    assert rechercher("nivolumab") == ["ZZZ 40 mg", "AAA 10 mg"]
    # Sorting by name stays possible during a search.
    assert rechercher("nivolumab", tri="nom") == ["AAA 10 mg", "ZZZ 40 mg"]


def test_r3_la_page_du_referentiel_cherche_avec_le_meme_filterset(client, referentiel):
    reponse = client.get("/referentiel/", {"q": "lymphomes"})
    assert noms_affiches(reponse) == ["IMBRUVICA 140 mg, gélule"]
    html = reponse.content.decode()
    assert 'value="lymphomes"' in html
    assert "1 spécialité trouvée." in html


def test_r3_une_recherche_sans_resultat_le_dit_et_propose_d_elargir(client, referentiel):
    html = client.get("/referentiel/", {"q": "paracetamol"}).content.decode()
    assert "Aucune spécialité ne correspond à votre recherche." in html
    assert "<table>" not in html


def test_r1_une_specialite_hors_referentiel_n_est_jamais_trouvee():
    SpecialiteFactory(nom="SANS STATUT 10 mg", dci="ibrutinib")  # imported from the BDPM, no derogatory status
    AccesFactory(specialite=SpecialiteFactory(nom="NON PUBLIEE 10 mg", dci="ibrutinib", non_publiee=True))
    AccesFactory(specialite=SpecialiteFactory(nom="CPC EN PROJET 10 mg", dci="ibrutinib"), cpc_projet=True)
    AccesFactory(specialite=SpecialiteFactory(nom="PUBLIEE 10 mg", dci="ibrutinib"))
    indexer_specialites()
    assert rechercher("ibrutinib") == ["PUBLIEE 10 mg"]


def test_r3_un_debut_de_mot_ou_un_laboratoire_mal_orthographie_trouvent_encore(referentiel):
    assert rechercher("ibrut") == ["IMBRUVICA 140 mg, gélule"]  # typed while searching
    assert rechercher("jansen") == ["IMBRUVICA 140 mg, gélule"]
    assert rechercher("ibrutnib lymphome") == ["IMBRUVICA 140 mg, gélule"]


def test_r3_l_approximation_ne_s_ajoute_pas_a_une_recherche_exacte_qui_trouve():
    AccesFactory(specialite=SpecialiteFactory(nom="OPDIVO", dci="nivolumab"))
    AccesFactory(specialite=SpecialiteFactory(nom="VOISIN", dci="nivolumob"))
    indexer_specialites()
    assert rechercher("nivolumab") == ["OPDIVO"]
    assert rechercher("nivolumub") == ["OPDIVO", "VOISIN"]  # no exact match: both are close
