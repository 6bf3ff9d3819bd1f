"""The ANSM review in a browser: the évaluateur takes a request from the queue, asks the laboratory for R16 pieces,
the laboratory answers from its space with a document, the évaluateur reads it on the review page, previews the
decision PDF and grants. No console error (the CSP allows no inline script or style)."""

import datetime

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from demandes.enums import StatutDemande
from demandes.models import DemandeAAC
from tests.factories import DemandeFactory, LaboratoireFactory, UtilisateurFactory
from tests.factories.gestion import LaboratoireUtilisateurFactory
from tests.factories.referentiel import pdf_minimal

from .test_parcours_demande import ouvrir_action, se_connecter, se_deconnecter, statut, valider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_file_d_instruction_information_du_laboratoire_et_octroi(page, tmp_path):
    laboratoire = LaboratoireFactory(nom="Laboratoire Alpha")
    demande = DemandeFactory(
        hors_indication=True,
        en_evaluation=True,
        specialite__titulaire=laboratoire,
        specialite__nom="LUMINOMAB 20 mg/mL",
        patient_initiales="Q.W.",
    )
    evaluateur = UtilisateurFactory(evaluateur=True, prenom="Sophie", nom="Leroy")
    appareil = TOTPDevice.objects.create(user=evaluateur, name="Téléphone", confirmed=True)
    compte_labo = LaboratoireUtilisateurFactory(laboratoire=laboratoire)

    # 1. The évaluateur takes the request from the queue and asks the laboratory.
    se_connecter(page, evaluateur, appareil)
    page.goto("/ansm/demandes/")
    assert page.locator("#nombre-en-attente").inner_text() == "1"
    page.get_by_role("button", name=f"M'assigner la demande {demande.reference}").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(f"#ligne-{demande.reference}").get_by_text("Vous").is_visible()
    page.get_by_role("link", name=demande.reference).click()
    page.wait_for_load_state("networkidle")
    formulaire = ouvrir_action(page, "interroger_laboratoire", "Demander des informations au laboratoire")
    formulaire.get_by_text("Projet de PUT-SP", exact=True).click()
    formulaire.get_by_text("Capacités d'approvisionnement et conditionnement", exact=True).click()
    assert formulaire.locator('input[value="projet_put_sp"]').is_checked()
    formulaire.locator("#id_interroger_laboratoire-date_limite").fill(
        (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    )
    valider(page, formulaire)
    assert statut(page) == "En évaluation à l'ANSM"
    assert "Demande d'information à Laboratoire Alpha (R16)" in page.locator("#echanges").inner_text()
    se_deconnecter(page)

    # 2. The laboratory answers from its space, with a document; it never sees the patient.
    se_connecter(page, compte_labo)
    page.goto("/laboratoire/")
    page.get_by_role("link", name="Demandes d'information de l'ANSM sur vos produits (R16)").click()
    page.wait_for_load_state("networkidle")
    assert "Q.W." not in page.content()
    page.get_by_role("link", name=demande.reference).click()
    page.wait_for_load_state("networkidle")
    assert "Projet de PUT-SP" in page.locator("#pieces-demandees").inner_text()
    page.get_by_label("Votre réponse à l'ANSM").fill("Projet de PUT-SP joint ; 500 boîtes disponibles par mois.")
    fichier = tmp_path / "projet-put-sp.pdf"
    fichier.write_bytes(pdf_minimal("Projet de PUT-SP"))
    page.locator('input[name="fichiers"]').set_input_files(str(fichier))
    page.get_by_role("button", name="Transmettre à l'ANSM").click()
    page.wait_for_load_state("networkidle")
    assert "Votre réponse et vos documents ont été transmis à l'ANSM." in page.content()
    se_deconnecter(page)

    # 3. The évaluateur reads the answer, previews the decision, then grants.
    se_connecter(page, evaluateur, appareil)
    page.goto(f"/ansm/demandes/{demande.reference}/")
    echanges = page.locator("#echanges").inner_text()
    assert "500 boîtes disponibles par mois" in echanges and "projet-put-sp.pdf" in echanges
    formulaire = ouvrir_action(page, "octroyer", "Octroyer l'AAC")
    formulaire.locator("#id_octroyer-duree_jours").fill("60")
    with page.expect_popup() as fenetre:
        formulaire.locator('button[data-apercu="octroyer"]').click()
    apercu = fenetre.value
    apercu.wait_for_load_state()
    assert f"/ansm/demandes/{demande.reference}/apercu/octroyer/" in apercu.url
    apercu.close()
    assert DemandeAAC.objects.get(pk=demande.pk).statut == StatutDemande.EN_EVALUATION
    valider(page, formulaire)
    assert statut(page) == "Octroyée"
    demande.refresh_from_db()
    assert demande.decision.duree_jours == 60
    assert [e.transition for e in demande.journal.all()] == [
        "assigner",
        "interroger_laboratoire",
        "repondre_laboratoire",
        "octroyer",
    ]
    assert page.erreurs_console == []
