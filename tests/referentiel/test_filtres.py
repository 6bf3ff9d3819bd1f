"""R1, R3, R4: each filter of the référentiel, on the shared FilterSet and on the page (tags, errors)."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from referentiel.enums import AireTherapeutique
from referentiel.filters import SpecialiteFilterSet
from tests.factories.referentiel import (
    AccesFactory,
    LaboratoireFactory,
    PUTFactory,
    SpecialiteFactory,
    indexer_specialites,
)

pytestmark = pytest.mark.django_db


def filtrer(**donnees) -> list[str]:
    filterset = SpecialiteFilterSet(donnees)
    assert filterset.is_valid(), filterset.errors
    return sorted(s.nom for s in filterset.qs)


def noms_affiches(reponse) -> list[str]:
    return re.findall(r'<a class="fr-link" href="/referentiel/[^/"]+/">([^<]+)</a>', reponse.content.decode())


@pytest.fixture
def statuts():
    """One spécialité per situation: AAC en cours, AAC terminé + AAP en cours, CPC suspendu, ATU historique."""
    aac = AccesFactory(specialite=SpecialiteFactory(nom="A-AAC"))
    mixte = SpecialiteFactory(nom="B-MIXTE")
    AccesFactory(specialite=mixte, termine=True)
    AccesFactory(specialite=mixte, aap=True)
    AccesFactory(specialite=SpecialiteFactory(nom="C-CPC"), cpc=True, suspendu=True)
    AccesFactory(specialite=SpecialiteFactory(nom="D-ATU"), atu_historique=True)
    return aac


def test_r1_filtre_par_type_d_acces(statuts):
    assert filtrer(type_acces=["AAC"]) == ["A-AAC", "B-MIXTE"]
    assert filtrer(type_acces=["CPC", "ATUn"]) == ["C-CPC", "D-ATU"]


def test_r1_filtre_par_etat(statuts):
    assert filtrer(etat=["en_cours"]) == ["A-AAC", "B-MIXTE"]
    assert filtrer(etat=["suspendu"]) == ["C-CPC"]
    assert filtrer(etat=["termine"]) == ["B-MIXTE", "D-ATU"]


def test_r1_type_et_etat_s_appliquent_au_meme_statut(statuts):
    # B-MIXTE has an AAC (ended) and an AAP (en cours): it is not an "AAC en cours".
    assert filtrer(type_acces=["AAC"], etat=["en_cours"]) == ["A-AAC"]
    assert filtrer(type_acces=["AAC"], etat=["termine"]) == ["B-MIXTE"]


def test_r40_un_cpc_en_projet_reste_cache_quel_que_soit_le_filtre_de_type():
    projet = SpecialiteFactory(nom="AAC ET CPC EN PROJET")
    AccesFactory(specialite=projet)
    AccesFactory(specialite=projet, cpc_projet=True)
    AccesFactory(specialite=SpecialiteFactory(nom="CPC EN PROJET SEUL"), cpc_projet=True)
    AccesFactory(specialite=SpecialiteFactory(nom="CPC PUBLIE"), cpc=True)
    assert filtrer(type_acces=["CPC"]) == ["CPC PUBLIE"]
    assert filtrer(type_acces=["CPC"], etat=["en_cours"]) == ["CPC PUBLIE"]
    assert filtrer(type_acces=["AAC", "CPC"]) == ["AAC ET CPC EN PROJET", "CPC PUBLIE"]
    # Without CPC among the types, the query leaves out the draft condition: the AAC still shows, the draft not.
    assert filtrer(type_acces=["AAC"], etat=["en_cours"]) == ["AAC ET CPC EN PROJET"]
    assert filtrer(type_acces=["AAP", "ATUn"]) == []


def test_r3_filtre_par_aire_therapeutique():
    AccesFactory(specialite=SpecialiteFactory(nom="ONCO", aire_therapeutique=AireTherapeutique.ONCOLOGIE))
    AccesFactory(specialite=SpecialiteFactory(nom="NEURO", aire_therapeutique=AireTherapeutique.NEUROLOGIE))
    assert filtrer(aire_therapeutique="oncologie") == ["ONCO"]


def test_r3_filtre_par_laboratoire_titulaire_ou_exploitant():
    labo = LaboratoireFactory(nom="Gilead Sciences")
    AccesFactory(specialite=SpecialiteFactory(nom="TITULAIRE", titulaire=labo))
    AccesFactory(specialite=SpecialiteFactory(nom="EXPLOITANT", exploitant=labo))
    AccesFactory(specialite=SpecialiteFactory(nom="AUTRE"))
    assert filtrer(laboratoire=str(labo.pk)) == ["EXPLOITANT", "TITULAIRE"]


def test_r3_filtre_par_substance_sans_tenir_compte_des_accents_ni_de_la_casse():
    AccesFactory(specialite=SpecialiteFactory(nom="ONASEMNOGENE", dci="onasemnogène abéparvovec"))
    AccesFactory(specialite=SpecialiteFactory(nom="IBRUTINIB", dci="ibrutinib"))
    assert filtrer(substance="ABEPARVOVEC") == ["ONASEMNOGENE"]
    assert filtrer(substance="ibrutinib") == ["IBRUTINIB"]


def test_r4_filtre_mitm():
    AccesFactory(specialite=SpecialiteFactory(nom="MITM", mitm=True))
    AccesFactory(specialite=SpecialiteFactory(nom="ORDINAIRE"))
    assert filtrer(mitm="true") == ["MITM"]
    assert filtrer(mitm="false") == ["ORDINAIRE"]


def test_r31_filtre_put_avec_recueil_nominatif_de_donnees():
    PUTFactory(acces__specialite__nom="AVEC RECUEIL", recueil=True)
    PUTFactory(acces__specialite__nom="SANS RECUEIL", recueil_nominatif=False)
    # A laboratory's proposal is not a validated PUT: it does not count (R32).
    PUTFactory(acces__specialite__nom="PROPOSITION", recueil=True, proposition=True)
    assert filtrer(recueil_nominatif="true") == ["AVEC RECUEIL"]
    assert filtrer(recueil_nominatif="false") == ["PROPOSITION", "SANS RECUEIL"]


def test_filtre_mis_a_jour_depuis_une_date_a_partir_de_minuit_heure_de_paris():
    minuit = timezone.make_aware(datetime.datetime(2025, 3, 10, 0, 0))
    AccesFactory(specialite=SpecialiteFactory(nom="VEILLE", mis_a_jour_le=minuit - datetime.timedelta(seconds=1)))
    AccesFactory(specialite=SpecialiteFactory(nom="LE JOUR", mis_a_jour_le=minuit))
    AccesFactory(specialite=SpecialiteFactory(nom="APRES", mis_a_jour_le=minuit + datetime.timedelta(days=3)))
    assert filtrer(mis_a_jour_depuis="2025-03-10") == ["APRES", "LE JOUR"]


def test_tri_par_derniere_mise_a_jour():
    maintenant = timezone.now()
    AccesFactory(specialite=SpecialiteFactory(nom="ANCIENNE", mis_a_jour_le=maintenant - datetime.timedelta(days=9)))
    AccesFactory(specialite=SpecialiteFactory(nom="RECENTE", mis_a_jour_le=maintenant))
    filterset = SpecialiteFilterSet({"tri": "-mis_a_jour_le"})
    assert [s.nom for s in filterset.qs] == ["RECENTE", "ANCIENNE"]
    filterset = SpecialiteFilterSet({})
    assert [s.nom for s in filterset.qs] == ["ANCIENNE", "RECENTE"]


def test_la_page_montre_les_filtres_actifs_en_tags_retirables(client, statuts):
    labo = statuts.specialite.titulaire
    reponse = client.get("/referentiel/", {"type_acces": ["AAC", "AAP"], "etat": "en_cours", "laboratoire": labo.pk})
    html = re.sub(r"\s+", " ", reponse.content.decode())
    assert noms_affiches(reponse) == ["A-AAC"]
    # Each tag links to the same query without its own value, back to page 1.
    assert (
        '<a class="fr-tag fr-tag--sm fr-tag--dismiss" '
        f'href="/referentiel/?type_acces=AAP&amp;etat=en_cours&amp;laboratoire={labo.pk}" '
        'data-champ="type_acces" data-valeur="AAC" '
        'aria-label="Retirer le filtre Type : AAC — accès compassionnel">Type : AAC — accès compassionnel</a>'
    ) in html
    assert f'href="/referentiel/?type_acces=AAC&amp;type_acces=AAP&amp;laboratoire={labo.pk}"' in html
    assert f"Laboratoire : {labo.nom}</a>" in html
    # The form shows the same state (checked boxes, selected laboratory).
    assert 'id="type_acces-AAC" value="AAC" checked>' in html
    assert 'id="etat-en_cours" value="en_cours" checked>' in html
    assert f'<option value="{labo.pk}" selected>{labo.nom}</option>' in html


def test_r3_les_options_du_filtre_laboratoire_suivent_la_liste_des_laboratoires(client, statuts):
    # The <option>s are built once per list of laboratories: a new laboratory shows, and a renamed one under its new
    # name, once the list (cached a minute, like the page) is read again.
    nouveau = LaboratoireFactory(nom="Bayer HealthCare")
    AccesFactory(specialite=SpecialiteFactory(nom="E-NOUVEAU", titulaire=nouveau))
    html = client.get("/referentiel/").content.decode()
    assert f'<option value="{nouveau.pk}">Bayer HealthCare</option>' in html
    nouveau.nom = "Bayer Pharma"
    nouveau.save()
    cache.clear()  # the minute has passed
    html = client.get("/referentiel/", {"laboratoire": nouveau.pk}).content.decode()
    assert f'<option value="{nouveau.pk}" selected>Bayer Pharma</option>' in html
    assert "Bayer HealthCare" not in html


def test_r3_l_aire_therapeutique_choisie_est_selectionnee(client):
    AccesFactory(specialite=SpecialiteFactory(nom="ONCO", aire_therapeutique=AireTherapeutique.ONCOLOGIE))

    def options_aire(**donnees) -> str:
        html = client.get("/referentiel/", donnees).content.decode()
        return re.search(r'<select class="fr-select"\s+id="filtre-aire".*?</select>', html, re.S).group(0)

    assert '<option value="oncologie" selected>Oncologie</option>' in options_aire(aire_therapeutique="oncologie")
    assert '<option value="neurologie">Neurologie</option>' in options_aire(aire_therapeutique="oncologie")
    assert "selected" not in options_aire()


def test_une_valeur_de_filtre_invalide_est_signalee_sur_le_champ_et_ignoree(client, statuts):
    reponse = client.get("/referentiel/", {"type_acces": "XYZ", "mis_a_jour_depuis": "hier"})
    html = re.sub(r"\s+", " ", reponse.content.decode())
    assert reponse.status_code == 200
    assert (
        '<p class="fr-message fr-message--error">Sélectionnez un choix valide. XYZ n’en fait pas partie.</p>' in html
    )
    assert "fr-fieldset fr-fieldset--error" in html
    assert '<p class="fr-error-text" id="filtre-depuis-erreur">Saisissez une date valide.</p>' in html
    assert noms_affiches(reponse) == ["A-AAC", "B-MIXTE", "C-CPC", "D-ATU"]


def test_le_filtre_laboratoire_ne_propose_que_les_laboratoires_du_referentiel(client):
    AccesFactory(specialite=SpecialiteFactory(titulaire=LaboratoireFactory(nom="Novartis Pharma")))
    SpecialiteFactory(titulaire=LaboratoireFactory(nom="Biogaran"))  # BDPM catalogue only, no status
    html = client.get("/referentiel/").content.decode()
    assert ">Novartis Pharma</option>" in html
    assert "Biogaran" not in html


def test_recherche_et_filtres_se_combinent():
    AccesFactory(specialite=SpecialiteFactory(nom="IMBRUVICA AAC", dci="ibrutinib"))
    AccesFactory(specialite=SpecialiteFactory(nom="IMBRUVICA AAP", dci="ibrutinib"), aap=True)
    AccesFactory(specialite=SpecialiteFactory(nom="AUTRE AAC", dci="nivolumab"))
    indexer_specialites()
    assert filtrer(q="ibrutinib", type_acces=["AAC"]) == ["IMBRUVICA AAC"]


def test_r1_le_filterset_applique_toujours_la_condition_de_statut_meme_sans_donnees():
    AccesFactory(specialite=SpecialiteFactory(nom="AVEC STATUT"))
    SpecialiteFactory(nom="CATALOGUE SEUL")
    AccesFactory(specialite=SpecialiteFactory(nom="CPC EN PROJET"), cpc_projet=True)
    assert [s.nom for s in SpecialiteFilterSet().qs] == ["AVEC STATUT"]
    # Even on a base that forgot R1, and when another filter is invalid.
    from referentiel.models import Specialite

    assert [s.nom for s in SpecialiteFilterSet({"etat": "XYZ"}, queryset=Specialite.objects.all()).qs] == [
        "AVEC STATUT"
    ]


def test_r3_deux_filtersets_ne_partagent_ni_filtres_ni_champs():
    """The filters and form fields are copied cheaply for each FilterSet (filters._CopieLegere, _copie_champ): each
    FilterSet still filters with its own data, through its own methods, and its form's fields are its own."""
    AccesFactory(specialite=SpecialiteFactory(nom="IMBRUVICA", dci="ibrutinib"))
    AccesFactory(specialite=SpecialiteFactory(nom="KEYTRUDA", dci="pembrolizumab"))
    indexer_specialites()
    premier, second = SpecialiteFilterSet({"q": "ibrutinib"}), SpecialiteFilterSet({"q": "pembrolizumab"})
    assert premier.is_valid() and second.is_valid()
    assert premier.filters["q"] is not second.filters["q"]
    assert premier.filters["q"].parent is premier and second.filters["q"].parent is second
    assert [s.nom for s in second.qs] == ["KEYTRUDA"] and [s.nom for s in premier.qs] == ["IMBRUVICA"]
    premier.form.fields["q"].widget.attrs["data-essai"] = "1"
    premier.form.fields["laboratoire"].error_messages["invalid_choice"] = "autre"
    assert "data-essai" not in second.form.fields["q"].widget.attrs
    assert second.form.fields["laboratoire"].error_messages["invalid_choice"] != "autre"
    assert premier.form.fields["laboratoire"].queryset is not second.form.fields["laboratoire"].queryset
    assert "data-essai" not in SpecialiteFilterSet({}).form.fields["q"].widget.attrs
