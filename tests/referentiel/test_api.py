"""The public read-only API: same FilterSet as the page, nested fiche, conditional GET, throttling, schema."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.http import http_date
from rest_framework.throttling import AnonRateThrottle

from tests.factories.referentiel import (
    AccesFactory,
    CompositionFactory,
    ConditionPrescriptionFactory,
    CritereFactory,
    DocumentFactory,
    IndicationFactory,
    LaboratoireFactory,
    PUTFactory,
    RapportFactory,
    SpecialiteFactory,
    indexer_specialites,
)

pytestmark = pytest.mark.django_db


def obtenir(client, url, **kwargs):
    return client.get(url, HTTP_ACCEPT="application/json", **kwargs)


@pytest.fixture
def fiche(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    sp = SpecialiteFactory(
        nom="IMBRUVICA 140 mg, gélule",
        slug="imbruvica",
        titulaire=LaboratoireFactory(nom="Janssen-Cilag"),
        hospitaliere=True,
    )
    CompositionFactory(specialite=sp, substance__dci="ibrutinib", dosage="140 mg")
    ConditionPrescriptionFactory(specialite=sp, texte="prescription hospitalière")
    atu = AccesFactory(specialite=sp, atu_historique=True)
    aac = AccesFactory(specialite=sp, precedent=atu, riph=True)
    indication = IndicationFactory(acces=aac, libelle="Lymphome à cellules du manteau", maladie_rare=True)
    CritereFactory(indication=indication, libelle="Au moins une ligne antérieure", ordre=1)
    PUTFactory(acces=aac, recueil=True)
    PUTFactory(acces=aac, proposition=True)
    RapportFactory(acces=aac, publie=True, resume="Aucun signal nouveau.")
    RapportFactory(acces=aac, periode_debut=datetime.date(2024, 7, 15), periode_fin=datetime.date(2025, 1, 14))
    DocumentFactory(specialite=sp, acces=aac, titre="PUT-SP")
    DocumentFactory(specialite=sp, titre="Interne", public=False)
    AccesFactory(specialite=sp, cpc_projet=True)
    AccesFactory(specialite=SpecialiteFactory(nom="KEYTRUDA", dci="pembrolizumab"), aap=True)
    indexer_specialites()
    return sp


def test_liste_des_specialites_paginee_avec_la_meme_recherche_que_la_page(client, fiche):
    reponse = obtenir(client, "/api/v1/specialites/", data={"q": "lymphomes"})
    donnees = reponse.json()
    assert reponse.status_code == 200
    assert donnees["count"] == 1 and donnees["next"] is None
    ligne = donnees["results"][0]
    assert ligne["nom"] == "IMBRUVICA 140 mg, gélule"
    assert ligne["url"] == f"http://testserver/api/v1/specialites/{fiche.pk}/"
    assert ligne["url_fiche"] == "http://testserver/referentiel/imbruvica/"
    assert ligne["substances"] == [{"dci": "ibrutinib", "dosage": "140 mg", "reference_dosage": ""}]
    assert ligne["titulaire"] == "Janssen-Cilag" and ligne["exploitant"] is None
    # The CPC still in draft is not public (R40).
    assert [(a["type_acces"], a["etat"]) for a in ligne["acces"]] == [("AAC", "en_cours"), ("ATUn", "termine")]


def test_liste_des_specialites_filtree_et_paginee(client, fiche):
    donnees = obtenir(client, "/api/v1/specialites/", data={"type_acces": "AAP"}).json()
    assert [s["nom"] for s in donnees["results"]] == ["KEYTRUDA"]
    donnees = obtenir(client, "/api/v1/specialites/", data={"taille": 1, "tri": "nom"}).json()
    assert donnees["count"] == 2 and len(donnees["results"]) == 1
    assert donnees["next"] == "http://testserver/api/v1/specialites/?page=2&taille=1&tri=nom"


def test_une_valeur_de_filtre_invalide_donne_400_avec_le_nom_du_champ_en_francais(client, fiche):
    reponse = obtenir(
        client, "/api/v1/specialites/", data={"type_acces": "XYZ", "mis_a_jour_depuis": "hier", "mitm": "peut-etre"}
    )
    assert reponse.status_code == 400
    assert reponse.json() == {
        "type_acces": ["Sélectionnez un choix valide. XYZ n’en fait pas partie."],
        "mis_a_jour_depuis": ["Saisissez une date valide."],
        "mitm": ["Valeur attendue : « true » ou « false »."],
    }


def test_fiche_detaillee_avec_acces_indications_criteres_put_resumes_et_documents(client, fiche):
    donnees = obtenir(client, f"/api/v1/specialites/{fiche.pk}/").json()
    aac, atu = donnees["acces"]
    assert aac["type_acces"] == "AAC" and atu["type_acces"] == "ATUn"
    assert aac["precedent"]["id"] == atu["id"] and atu["suivants"][0]["id"] == aac["id"]
    assert aac["riph_commerciale"] is True and aac["date_limite_depot_aap"] == "2025-01-15"
    assert aac["indications"][0]["libelle"] == "Lymphome à cellules du manteau"
    assert aac["indications"][0]["maladie_rare"] is True
    assert [c["libelle"] for c in aac["indications"][0]["criteres"]] == ["Au moins une ligne antérieure"]
    assert [(p["type_put"], p["recueil_nominatif"]) for p in aac["puts"]] == [("PUT-SP", True)]
    assert [r["resume"] for r in aac["rapports"]] == ["Aucun signal nouveau."]
    assert donnees["cpd"] == {
        "reserve_hospitalier": True,
        "restriction_prescripteurs": "Prescription réservée aux hématologues",
        "retrocession": False,
        "conditions_bdpm": ["prescription hospitalière"],
    }
    assert donnees["titulaire"]["nom"] == "Janssen-Cilag"
    [document] = donnees["documents"]
    assert document["titre"] == "PUT-SP" and document["acces"] == aac["id"]
    assert document["url"] == f"http://testserver/referentiel/documents/{document['id']}/"
    telechargement = client.get(document["url"])
    assert b"".join(telechargement.streaming_content).startswith(b"%PDF-")


@pytest.mark.parametrize("cas", ["sans_statut", "non_publiee", "inconnue"])
def test_fiche_hors_referentiel_introuvable_dans_l_api(client, cas):
    identifiant = 999999
    if cas == "sans_statut":
        identifiant = SpecialiteFactory().pk
    elif cas == "non_publiee":
        identifiant = AccesFactory(specialite__non_publiee=True).specialite_id
    reponse = obtenir(client, f"/api/v1/specialites/{identifiant}/")
    assert reponse.status_code == 404
    assert reponse.json() == {"detail": "Aucune spécialité du référentiel ne porte cet identifiant."}


def test_liste_des_acces_publics_filtrable(client, fiche):
    donnees = obtenir(client, "/api/v1/acces/").json()
    assert sorted(a["type_acces"] for a in donnees["results"]) == ["AAC", "AAP", "ATUn"]
    donnees = obtenir(client, "/api/v1/acces/", data={"type_acces": "AAC", "specialite": fiche.pk}).json()
    [aac] = donnees["results"]
    assert aac["specialite"] == {
        "id": fiche.pk,
        "nom": "IMBRUVICA 140 mg, gélule",
        "slug": "imbruvica",
        "url_fiche": "http://testserver/referentiel/imbruvica/",
    }


def test_liste_des_indications_avec_leurs_criteres(client, fiche):
    AccesFactory(specialite__non_publiee=True, specialite__nom="CACHEE").indications.create(libelle="Cachée")
    donnees = obtenir(client, "/api/v1/indications/").json()
    assert [i["libelle"] for i in donnees["results"]] == ["Lymphome à cellules du manteau"]
    assert donnees["results"][0]["criteres"][0]["libelle"] == "Au moins une ligne antérieure"
    assert donnees["results"][0]["acces"]["type_acces"] == "AAC"
    assert obtenir(client, "/api/v1/indications/", data={"maladie_rare": "false"}).json()["count"] == 0


def test_etag_last_modified_et_cache_control_puis_304(client, fiche):
    reponse = obtenir(client, "/api/v1/specialites/", data={"type_acces": "AAC"})
    etag = reponse["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert reponse["Last-Modified"] == http_date(int(fiche.mis_a_jour_le.timestamp()))
    assert reponse["Cache-Control"] == "public, max-age=300"
    non_modifie = obtenir(client, "/api/v1/specialites/", data={"type_acces": "AAC"}, HTTP_IF_NONE_MATCH=etag)
    assert non_modifie.status_code == 304 and non_modifie.content == b""
    assert non_modifie["ETag"] == etag and non_modifie["Cache-Control"] == "public, max-age=300"
    depuis = obtenir(
        client, "/api/v1/specialites/", data={"type_acces": "AAC"}, HTTP_IF_MODIFIED_SINCE=reponse["Last-Modified"]
    )
    assert depuis.status_code == 304
    # Another query is another representation.
    assert (
        obtenir(client, "/api/v1/specialites/", data={"type_acces": "AAP"}, HTTP_IF_NONE_MATCH=etag).status_code == 200
    )
    # A change to the fiche changes the version.
    fiche.mis_a_jour_le = timezone.now() + datetime.timedelta(minutes=1)
    fiche.save(update_fields=["mis_a_jour_le"])
    apres = obtenir(client, "/api/v1/specialites/", data={"type_acces": "AAC"}, HTTP_IF_NONE_MATCH=etag)
    assert apres.status_code == 200 and apres["ETag"] != etag


def test_etag_et_304_sur_la_fiche_l_acces_et_l_indication(client, fiche):
    aac = fiche.acces.get(type_acces="AAC")
    indication = aac.indications.get()
    for url in (
        f"/api/v1/specialites/{fiche.pk}/",
        f"/api/v1/acces/{aac.pk}/",
        f"/api/v1/indications/{indication.pk}/",
    ):
        reponse = obtenir(client, url)
        assert reponse.status_code == 200 and reponse["Cache-Control"] == "public, max-age=300"
        assert obtenir(client, url, HTTP_IF_NONE_MATCH=reponse["ETag"]).status_code == 304
    # A retired spécialité is a 404 even to a client holding its old ETag.
    ancien = obtenir(client, f"/api/v1/specialites/{fiche.pk}/")["ETag"]
    fiche.publiee = False
    fiche.save(update_fields=["publiee"])
    assert obtenir(client, f"/api/v1/specialites/{fiche.pk}/", HTTP_IF_NONE_MATCH=ancien).status_code == 404


def test_les_clients_anonymes_sont_limites_429(client, fiche, monkeypatch):
    # The rate comes from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]; lowered here to reach the limit quickly.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min"})
    codes = [obtenir(client, "/api/v1/specialites/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refus = obtenir(client, "/api/v1/acces/")
    assert refus.status_code == 429 and int(refus["Retry-After"]) > 0
    assert refus.json()["detail"].startswith("Requête ralentie.")


def test_le_schema_openapi_est_valide_sans_avertissement(tmp_path):
    fichier = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(fichier))
    schema = fichier.read_text()
    assert schema.startswith("openapi: 3.0.3")
    for chemin in ("/api/v1/specialites/:", "/api/v1/specialites/{id}/:", "/api/v1/acces/:", "/api/v1/indications/:"):
        assert chemin in schema
    assert "name: recueil_nominatif" in schema and "name: q" in schema


def test_le_schema_est_servi_et_la_documentation_swagger_respecte_la_csp(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200 and "/api/v1/specialites/" in schema.json()["paths"]
    page = client.get("/api/docs/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<script src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"></script>' in html
    assert '<script src="/api/docs/?script="></script>' in html
    assert "<style>" not in html and "<script>" not in html
    assert "cdn.jsdelivr" not in html
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert 'url: "/api/schema/"' in script.content.decode()


@pytest.mark.parametrize("page", ["3", "0", "abc"])
def test_une_page_inexistante_de_l_api_est_un_404_explique(client, fiche, page):
    reponse = obtenir(client, "/api/v1/specialites/", data={"page": page})
    assert reponse.status_code == 404
    assert reponse.json()["detail"].startswith("Page invalide : ")
