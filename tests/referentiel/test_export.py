"""CSV exports for French Excel: UTF-8 with BOM, `;` separator, every row of the filtered list, streamed."""

import csv
import io

import pytest

from tests.factories.referentiel import (
    AccesFactory,
    CompositionFactory,
    CritereFactory,
    IndicationFactory,
    LaboratoireFactory,
    SpecialiteFactory,
    indexer_specialites,
)

pytestmark = pytest.mark.django_db


def lire_csv(reponse) -> tuple[bytes, list[list[str]]]:
    brut = b"".join(reponse.streaming_content)
    return brut, list(csv.reader(io.StringIO(brut.decode("utf-8-sig")), delimiter=";"))


def test_export_de_la_liste_filtree_avec_bom_et_point_virgule(client):
    sp = SpecialiteFactory(
        nom="IMBRUVICA 140 mg, gélule",
        slug="imbruvica",
        titulaire=LaboratoireFactory(nom="Janssen-Cilag"),
        mitm=True,
        cis="61234567",
        code_atc="L01EL01",
    )
    CompositionFactory(specialite=sp, substance__dci="ibrutinib", dosage="140 mg")
    AccesFactory(specialite=sp)
    AccesFactory(specialite=SpecialiteFactory(nom="AUTRE"), aap=True)
    reponse = client.get("/referentiel/export.csv", {"type_acces": "AAC"})
    brut, lignes = lire_csv(reponse)
    assert reponse.status_code == 200 and reponse.streaming
    assert reponse["Content-Type"] == "text/csv; charset=utf-8"
    assert reponse["Content-Disposition"].startswith('attachment; filename="referentiel-acces-derogatoires-')
    assert brut.startswith(b"\xef\xbb\xbfSp\xc3\xa9cialit\xc3\xa9;DCI;Dosages;")
    assert b"\r\n" in brut
    assert lignes[0][:6] == [
        "Spécialité",
        "DCI",
        "Dosages",
        "Forme pharmaceutique",
        "Voies d'administration",
        "Accès dérogatoires",
    ]
    assert len(lignes) == 2
    ligne = dict(zip(lignes[0], lignes[1], strict=True))
    assert ligne["Spécialité"] == "IMBRUVICA 140 mg, gélule"  # the comma stays inside its cell
    assert ligne["DCI"] == "ibrutinib" and ligne["Dosages"] == "140 mg"
    assert ligne["Accès dérogatoires"] == "AAC (en cours)"
    assert ligne["MITM"] == "oui" and ligne["Laboratoire titulaire"] == "Janssen-Cilag"
    assert ligne["Code CIS"] == "61234567" and ligne["Code ATC"] == "L01EL01"
    assert ligne["Fiche"] == "http://testserver/referentiel/imbruvica/"


def test_export_de_la_liste_contient_toutes_les_pages_et_suit_la_recherche(client):
    for i in range(25):
        AccesFactory(specialite=SpecialiteFactory(nom=f"LYMPHO {i:02d}", dci="ibrutinib"))
    AccesFactory(specialite=SpecialiteFactory(nom="HORS RECHERCHE", dci="nivolumab"))
    indexer_specialites()
    _, lignes = lire_csv(client.get("/referentiel/export.csv", {"q": "ibrutinib", "tri": "nom", "page": "2"}))
    assert [ligne[0] for ligne in lignes[1:]] == [f"LYMPHO {i:02d}" for i in range(25)]


def test_export_des_indications_d_une_fiche_une_ligne_par_critere(client):
    acces = AccesFactory(specialite__slug="imbruvica")
    indication = IndicationFactory(
        acces=acces, libelle="Lymphome à cellules du manteau", patients_eligibles="Adultes", maladie_rare=True
    )
    CritereFactory(indication=indication, libelle="Au moins une ligne antérieure", ordre=1)
    CritereFactory(indication=indication, libelle="=Non éligible à un essai", ordre=2)
    IndicationFactory(acces=acces, libelle="Macroglobulinémie de Waldenström")
    reponse = client.get("/referentiel/imbruvica/indications.csv")
    brut, lignes = lire_csv(reponse)
    assert reponse["Content-Disposition"] == 'attachment; filename="indications-imbruvica.csv"'
    assert brut.startswith("\ufeffType d'accès;État;Indication;".encode())
    assert lignes[1:] == [
        [
            "AAC — accès compassionnel",
            "En cours",
            "Lymphome à cellules du manteau",
            "Adultes",
            "oui",
            "",
            "1",
            "Au moins une ligne antérieure",
        ],
        # A cell that a spreadsheet would run as a formula is neutralised.
        [
            "AAC — accès compassionnel",
            "En cours",
            "Lymphome à cellules du manteau",
            "Adultes",
            "oui",
            "",
            "2",
            "'=Non éligible à un essai",
        ],
        ["AAC — accès compassionnel", "En cours", "Macroglobulinémie de Waldenström", "", "non", "", "", ""],
    ]


def test_export_des_indications_d_une_fiche_hors_referentiel_est_introuvable(client):
    SpecialiteFactory(slug="sans-statut")
    assert client.get("/referentiel/sans-statut/indications.csv").status_code == 404
