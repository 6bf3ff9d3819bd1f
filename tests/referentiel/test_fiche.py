"""R2: a fiche shows every section its statuses require; documents download only when public (R1, R35)."""

import datetime
import html as html_lib
import re

import pytest
from django.core.files.base import ContentFile

from referentiel.enums import TypeDocument
from tests.factories.referentiel import (
    AccesFactory,
    CompositionFactory,
    ConditionPrescriptionFactory,
    CritereFactory,
    DocumentFactory,
    IndicationFactory,
    LaboratoireFactory,
    ProlongationFactory,
    PUTFactory,
    RapportFactory,
    SpecialiteFactory,
    pdf_minimal,
)

pytestmark = pytest.mark.django_db


def section(html: str, ident: str) -> str:
    """The HTML of <section id="ident">…</section> (sections are not nested in the fiche)."""
    trouve = re.search(rf'<section[^>]* id="{ident}"[^>]*>(.*?)</section>', html, re.S)
    assert trouve, f"section {ident} absente"
    return trouve.group(1)


def texte(html: str) -> str:
    """What a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def compact(html: str) -> str:
    return re.sub(r"\s+", " ", html)


@pytest.fixture
def fiche_aac(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    sp = SpecialiteFactory(
        nom="IMBRUVICA 140 mg, gélule",
        slug="imbruvica-140-mg-gelule",
        titulaire=LaboratoireFactory(nom="Janssen-Cilag", telephone="01 55 00 44 44"),
        exploitant=LaboratoireFactory(nom="Janssen-Cilag France"),
        mitm=True,
        hospitaliere=True,
        code_atc="L01EL01",
        cis="61234567",
    )
    CompositionFactory(specialite=sp, substance__dci="ibrutinib", dosage="140 mg")
    ConditionPrescriptionFactory(specialite=sp, texte="prescription hospitalière")
    atu = AccesFactory(specialite=sp, atu_historique=True)
    aac = AccesFactory(
        specialite=sp,
        precedent=atu,
        riph=True,
        date_debut=datetime.date(2021, 7, 1),
        date_prochain_renouvellement=datetime.date(2025, 7, 1),
        conditions_utilisation="Instauration par un médecin expérimenté en hématologie.",
    )
    ProlongationFactory(acces=aac)
    indication = IndicationFactory(
        acces=aac,
        libelle="Lymphome à cellules du manteau en rechute",
        patients_eligibles="Adultes ayant reçu au moins une ligne de traitement",
        maladie_rare=True,
        restriction_aap="réservé aux patients non éligibles à l'AAP en cours",
    )
    CritereFactory(indication=indication, libelle="Le patient a reçu au moins une ligne antérieure", ordre=1)
    CritereFactory(indication=indication, libelle="Le patient n'est pas éligible à un essai clinique", ordre=2)
    PUTFactory(acces=aac, recueil=True, crpv="CRPV de Lyon", periodicite_rapports_mois=6, version="3")
    PUTFactory(acces=aac, proposition=True, version="4", crpv="CRPV PROPOSITION")
    RapportFactory(acces=aac, publie=True, resume="Aucun signal nouveau sur la période.")
    RapportFactory(acces=aac, periode_debut=datetime.date(2024, 7, 15), periode_fin=datetime.date(2025, 1, 14))
    DocumentFactory(specialite=sp, titre="RCP IMBRUVICA", type_document=TypeDocument.RCP)
    DocumentFactory(specialite=sp, acces=aac, titre="PUT-SP IMBRUVICA", type_document=TypeDocument.PUT)
    DocumentFactory(specialite=sp, titre="Note interne", public=False)
    return sp


def test_r2_fiche_aac_avec_criteres_d_octroi_a_attester(client, fiche_aac):
    html = compact(client.get("/referentiel/imbruvica-140-mg-gelule/").content.decode())
    aac = fiche_aac.acces.get(type_acces="AAC")
    contenu = section(html, f"acces-{aac.pk}")
    lisible = texte(contenu)
    assert "Critères d'octroi" in lisible
    # The statements the prescriber attests (R11), in order, as an ordered list.
    assert (
        '<ol class="referentiel-criteres"> <li>Le patient a reçu au moins une ligne antérieure</li>'
        "<li>Le patient n'est pas éligible à un essai clinique</li> </ol>"
    ) in html_lib.unescape(contenu)
    assert "Le prescripteur atteste que :" in lisible
    assert "Patients éligibles Adultes ayant reçu au moins une ligne de traitement" in lisible
    assert "Maladie rare" in lisible
    assert "Accès précoce : réservé aux patients non éligibles à l'AAP en cours" in lisible
    assert "Conditions d'utilisation Instauration par un médecin expérimenté en hématologie." in lisible
    assert "Prochain renouvellement 01/07/2025" in lisible
    # R23: the laboratory's AAP commitment, its deadline and its extension.
    assert "déposer une demande d'autorisation d'accès précoce au plus tard le 15/01/2025" in lisible
    assert "Ce délai a été prolongé 1 fois." in lisible


def test_r31_r33_r35_fiche_aac_montre_le_put_sp_et_les_seuls_resumes_publies(client, fiche_aac):
    html = client.get("/referentiel/imbruvica-140-mg-gelule/").content.decode()
    lisible = texte(html)
    assert "PUT-SP (suivi des patients), version 3 validée le 01/02/2024" in lisible
    assert "Avec recueil nominatif des données de suivi" in lisible
    assert "Centre régional de pharmacovigilance en charge du suivi CRPV de Lyon" in lisible
    assert "tous les 6 mois" in lisible
    assert "CRPV PROPOSITION" not in lisible  # a laboratory's proposal is not public
    assert "Aucun signal nouveau sur la période." in lisible
    assert "Période du 15/01/2024 au 14/07/2024" in lisible
    assert "Période du 15/07/2024" not in lisible  # expected report, no résumé published yet


def test_r2_r28_fiche_montre_cpd_laboratoires_identification_et_mise_a_jour(client, fiche_aac):
    html = client.get("/referentiel/imbruvica-140-mg-gelule/").content.decode()
    cpd = texte(section(html, "cpd"))
    assert "Réservé à l'usage hospitalier" in cpd
    assert "Prescription restreinte : Prescription réservée aux hématologues" in cpd
    assert "Non inscrit sur la liste de rétrocession." in cpd
    assert "prescription hospitalière" in cpd  # the BDPM CPD line
    labos = texte(section(html, "laboratoires"))
    assert "Titulaire des droits : Janssen-Cilag Tél. : 01 55 00 44 44" in labos
    assert "Exploitant : Janssen-Cilag France" in labos
    ident = texte(section(html, "identification"))
    assert "ibrutinib — 140 mg" in ident and "L01EL01" in ident and "61234567" in ident
    assert f"Fiche mise à jour le {fiche_aac.mis_a_jour_le:%d/%m/%Y}" in texte(html)
    assert '<abbr title="Médicament d\'intérêt thérapeutique majeur">MITM</abbr>' in compact(html)


def test_r2_historique_atu_nominative_puis_aac(client, fiche_aac):
    html = client.get("/referentiel/imbruvica-140-mg-gelule/").content.decode()
    atu = fiche_aac.acces.get(type_acces="ATUn")
    aac = fiche_aac.acces.get(type_acces="AAC")
    historique = texte(section(html, "historique"))
    assert historique.startswith("Historique des statuts ATU nominative (historique) — terminé / arrêté du 02/05/2019")
    assert "Remplacé par : AAC — accès compassionnel à partir du 01/07/2021" in historique
    # The AAC section links back to the ATU it succeeds, and the ATU section forward to the AAC.
    assert f'Succède à : <a href="#acces-{atu.pk}">ATU nominative (historique)</a>' in html
    assert f'Remplacé par <a href="#acces-{aac.pk}">AAC — accès compassionnel</a>' in html
    # The status in force comes first.
    assert html.index(f'id="acces-{aac.pk}"') < html.index(f'id="acces-{atu.pk}"')


def test_r2_documents_publics_en_liens_de_telechargement(client, fiche_aac):
    html = compact(client.get("/referentiel/imbruvica-140-mg-gelule/").content.decode())
    documents = section(html, "documents")
    rcp = fiche_aac.documents.get(titre="RCP IMBRUVICA")
    assert (
        f'<a class="fr-link fr-link--download" href="/referentiel/documents/{rcp.pk}/" download> RCP IMBRUVICA '
        '(version 1) <span class="fr-link__detail">RCP – PDF – '
    ) in documents
    assert "PUT-SP IMBRUVICA" in documents
    assert "Note interne" not in html


def test_r37_fiche_aap_avec_put_rd_et_decision_has(client):
    aap = AccesFactory(aap=True, specialite__nom="LIVTENCITY 200 mg", specialite__slug="livtencity")
    PUTFactory(acces=aap, rd=True, recueil=True, crpv="")
    IndicationFactory(acces=aap, libelle="Infection à CMV réfractaire après greffe")
    lisible = texte(client.get("/referentiel/livtencity/").content.decode())
    assert "AAP — accès précoce En cours" in lisible
    assert "Phase Pré-AMM Décision de la HAS 07/03/2024" in lisible
    assert "PUT-RD (recueil de données), version 1" in lisible
    assert "Indication Infection à CMV réfractaire après greffe" in lisible
    assert "Critères d'octroi" not in lisible  # criteria to attest belong to AAC only


def test_r38_r39_fiche_cpc_trois_ans_et_origine_du_signalement(client):
    AccesFactory(cpc=True, specialite__nom="BACLOFENE", specialite__slug="baclofene", specialite__retrocedee=True)
    lisible = texte(client.get("/referentiel/baclofene/").content.decode())
    assert "CPC — cadre de prescription compassionnelle En cours" in lisible
    assert "Durée 3 ans, renouvelable" in lisible
    assert "Origine du signalement Institut national du cancer" in lisible
    assert "Inscrit sur la liste de rétrocession" in lisible


def test_r24_fiche_aac_avec_date_de_cessation_apres_amm(client):
    AccesFactory(cessation=True, specialite__nom="AMM OBTENUE", specialite__slug="amm-obtenue")
    lisible = texte(client.get("/referentiel/amm-obtenue/").content.decode())
    assert "aucune nouvelle AAC n'est délivrée à compter du 01/02/2025" in lisible
    assert "Cessation des AAC 01/02/2025" in lisible


def test_r40_un_cpc_en_projet_n_apparait_pas_sur_la_fiche(client):
    sp = SpecialiteFactory(nom="METHOTREXATE", slug="methotrexate")
    AccesFactory(specialite=sp)
    AccesFactory(specialite=sp, cpc_projet=True)
    html = client.get("/referentiel/methotrexate/").content.decode()
    assert "AAC — accès compassionnel" in html
    assert "cadre de prescription compassionnelle" not in html


@pytest.mark.parametrize("cas", ["sans_statut", "non_publiee", "cpc_en_projet", "inconnue"])
def test_r1_fiche_introuvable_hors_referentiel(client, cas):
    if cas == "sans_statut":
        SpecialiteFactory(slug="cas")
    elif cas == "non_publiee":
        AccesFactory(specialite__slug="cas", specialite__non_publiee=True)
    elif cas == "cpc_en_projet":
        AccesFactory(specialite__slug="cas", cpc_projet=True)
    reponse = client.get("/referentiel/cas/")
    assert reponse.status_code == 404
    assert "Page non trouvée" in reponse.content.decode()


def test_telecharger_un_document_public_renvoie_le_fichier_en_piece_jointe(client, fiche_aac):
    rcp = fiche_aac.documents.get(titre="RCP IMBRUVICA")
    reponse = client.get(f"/referentiel/documents/{rcp.pk}/")
    contenu = b"".join(reponse.streaming_content)
    assert reponse.status_code == 200
    assert reponse["Content-Type"] == "application/pdf"
    assert reponse["Content-Disposition"] == 'attachment; filename="rcp.pdf"'
    assert contenu.startswith(b"%PDF-") and contenu == rcp.fichier.open("rb").read()


def test_un_document_non_public_ou_d_une_fiche_non_publiee_est_introuvable(client, fiche_aac, settings, tmp_path):
    interne = fiche_aac.documents.get(titre="Note interne")
    assert client.get(f"/referentiel/documents/{interne.pk}/").status_code == 404
    cachee = DocumentFactory(specialite=AccesFactory(specialite__non_publiee=True).specialite)
    assert client.get(f"/referentiel/documents/{cachee.pk}/").status_code == 404
    sans_statut = DocumentFactory(specialite=SpecialiteFactory())
    assert client.get(f"/referentiel/documents/{sans_statut.pk}/").status_code == 404
    assert client.get("/referentiel/documents/999999/").status_code == 404


def test_un_document_dont_le_fichier_a_disparu_est_introuvable(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    document = DocumentFactory(specialite=AccesFactory().specialite)
    document.fichier.delete(save=False)
    assert client.get(f"/referentiel/documents/{document.pk}/").status_code == 404


def test_les_fichiers_televerses_ne_sont_pas_servis_par_media_url(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    document = DocumentFactory(specialite=AccesFactory().specialite, fichier=ContentFile(pdf_minimal(), "a.pdf"))
    assert client.get(settings.MEDIA_URL + document.fichier.name).status_code == 404


def test_r40_le_document_d_un_cpc_en_projet_n_est_ni_liste_ni_telechargeable(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    sp = SpecialiteFactory(slug="methotrexate")
    AccesFactory(specialite=sp)
    projet = AccesFactory(specialite=sp, cpc_projet=True)
    brouillon = DocumentFactory(specialite=sp, acces=projet, titre="Projet de PUT-SP du CPC")
    DocumentFactory(specialite=sp, titre="RCP publié")
    html = client.get("/referentiel/methotrexate/").content.decode()
    assert "RCP publié" in html and "Projet de PUT-SP du CPC" not in html
    assert client.get(f"/referentiel/documents/{brouillon.pk}/").status_code == 404
