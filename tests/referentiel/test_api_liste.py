"""The API list builds its rows from dicts (selectors.specialites_lignes) for speed: they must be exactly what the
documented SpecialiteListeSerializer gives for the same spécialités."""

import json

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from referentiel import selectors
from referentiel.api.serializers import SpecialiteListeSerializer, specialites_en_liste
from referentiel.filters import SpecialiteFilterSet
from tests.factories.referentiel import (
    AccesFactory,
    CompositionFactory,
    LaboratoireFactory,
    SpecialiteFactory,
    indexer_specialites,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def referentiel():
    labo = LaboratoireFactory(nom="Janssen-Cilag")
    imbruvica = SpecialiteFactory(
        nom="IMBRUVICA 140 mg, gélule", cis="60000001", titulaire=labo, exploitant=LaboratoireFactory(), mitm=True
    )
    CompositionFactory(specialite=imbruvica, substance__dci="ibrutinib", dosage="140 mg", reference_dosage="gélule")
    CompositionFactory(specialite=imbruvica, substance__dci="excipient à effet notoire", dosage="")
    atu = AccesFactory(specialite=imbruvica, atu_historique=True)
    AccesFactory(specialite=imbruvica, precedent=atu)
    AccesFactory(specialite=imbruvica, cpc_projet=True)  # not public (R40): in neither representation
    sans_labo = SpecialiteFactory(nom="SANS LABORATOIRE", titulaire=None, aire_therapeutique="")
    AccesFactory(specialite=sans_labo, aap=True)
    indexer_specialites()


def test_the_api_list_rows_are_exactly_what_the_documented_serializer_gives(referentiel):
    requete = Request(APIRequestFactory().get("/api/v1/specialites/"))
    specialites = SpecialiteFilterSet({}).qs

    attendu = SpecialiteListeSerializer(
        selectors.specialites_pour_liste(specialites), many=True, context={"request": requete}
    ).data
    obtenu = specialites_en_liste(list(selectors.specialites_lignes(specialites)), requete=requete)

    assert len(obtenu) == 2
    # Same values, same keys in the same order, once rendered as JSON.
    assert json.dumps(obtenu, ensure_ascii=False) == json.dumps(attendu, ensure_ascii=False)
    assert [a["type_acces"] for a in obtenu[0]["acces"]] == ["AAC", "ATUn"]
    assert obtenu[1]["titulaire"] is None
