"""R16: the évaluateur asks the laboratory for the pieces it ticks, with a deadline; the laboratory answers from its
space with documents, for its own products only and without ever reading patient data; the évaluateur reads the
answer on the review page. The PUI and the prescriber do not read the laboratory's exchange."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from comptes.models import Notification
from demandes import services
from demandes.enums import DestinataireComplement, PieceLaboratoire, StatutDemande
from demandes.exceptions import ConflitEtat, DemandeError, TransitionInterdite
from demandes.models import Complement, PieceJointe
from tests.conftest import connecter
from tests.factories import DemandeFactory, LaboratoireFactory, UtilisateurFactory
from tests.factories.gestion import LaboratoireUtilisateurFactory
from tests.factories.referentiel import pdf_minimal

from .conftest import html, sans_inline

pytestmark = pytest.mark.django_db


def png_minimal() -> bytes:
    """A real 2x2 PNG image."""
    import io

    from PIL import Image

    tampon = io.BytesIO()
    Image.new("RGB", (2, 2)).save(tampon, "PNG")
    return tampon.getvalue()


def dans(jours: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=jours)


@pytest.fixture
def laboratoire(db):
    return LaboratoireFactory(nom="Laboratoire Alpha", email="contact@alpha.example")


@pytest.fixture
def demande(laboratoire):
    """A referenced spécialité of the laboratory asked for in a new indication (R12), under evaluation."""
    demande = DemandeFactory(
        hors_indication=True,
        en_evaluation=True,
        specialite__titulaire=laboratoire,
        patient_initiales="Q.W.",
        patient_age=47,
    )
    return demande


def demander(demande, evaluateur, **champs) -> Complement:
    valeurs = {
        "laboratoire": demande.specialite.titulaire if demande.specialite_id else None,
        "pieces": [PieceLaboratoire.PROJET_PUT, PieceLaboratoire.DONNEES_PRODUIT],
        "date_limite": dans(15),
        "question": "Précisez les données chez l'enfant.",
        **champs,
    }
    return services.complement_laboratoire_demander(
        demande=demande, par=evaluateur, version=demande.version, **valeurs
    )


# --- The évaluateur asks (R16) ----------------------------------------------------------------------------------


def test_r16_l_evaluateur_demande_les_pieces_cochees_au_laboratoire(client_ansm, evaluateur, demande, laboratoire):
    LaboratoireUtilisateurFactory(laboratoire=laboratoire, email="pv@alpha.example")
    LaboratoireUtilisateurFactory(laboratoire=LaboratoireFactory(), email="autre@beta.example")
    page = html(client_ansm.get(f"/ansm/demandes/{demande.reference}/"))
    assert 'data-action="interroger_laboratoire"' in page
    assert f'<option value="{laboratoire.pk}" selected>Laboratoire Alpha</option>' in page
    for piece in PieceLaboratoire.values:
        assert f'value="{piece}"' in page

    reponse = client_ansm.post(
        reverse("ansm:instruction_action", args=[demande.reference, "interroger_laboratoire"]),
        {
            "interroger_laboratoire-version": demande.version,
            "interroger_laboratoire-laboratoire": laboratoire.pk,
            "interroger_laboratoire-pieces": [PieceLaboratoire.ENGAGEMENT_AAP, PieceLaboratoire.RECHERCHES],
            "interroger_laboratoire-date_limite": dans(20).isoformat(),
        },
    )
    assert reponse.status_code == 302 and reponse.url == f"/ansm/demandes/{demande.reference}/"
    complement = Complement.objects.get(demande=demande)
    assert complement.destinataire == DestinataireComplement.LABORATOIRE and complement.laboratoire == laboratoire
    # Stored in the order of the list the évaluateur ticks from.
    assert complement.pieces_demandees == ["recherches_commerciales", "engagement_aap"]
    assert complement.date_limite == dans(20) and complement.demande_par == evaluateur
    demande.refresh_from_db()
    # The request stays under evaluation: the PUI has nothing to do (R15: the time to get the laboratory's data).
    assert demande.statut == StatutDemande.EN_EVALUATION and demande.evaluateur == evaluateur
    evenement = demande.journal.get(transition="interroger_laboratoire")
    assert (evenement.statut_avant, evenement.statut_apres, evenement.role) == (
        "en_evaluation",
        "en_evaluation",
        "evaluateur",
    )
    assert evenement.details == {
        "complement": complement.pk,
        "laboratoire": laboratoire.pk,
        "pieces": ["recherches_commerciales", "engagement_aap"],
        "date_limite": dans(20).isoformat(),
    }
    # The laboratory's accounts and contact address are told; nobody else; no patient data in the email.
    courriels = Notification.objects.filter(sujet__startswith="Demande d'information de l'ANSM")
    assert sorted(c.destinataire for c in courriels) == ["contact@alpha.example", "pv@alpha.example"]
    corps = courriels[0].corps
    assert f"https://referentiel-ad.example/laboratoire/informations/{complement.pk}/" in corps
    assert "- Engagement à déposer une demande d'accès précoce (AAP) dans les 12 mois" in corps
    assert f"avant le {dans(20):%d/%m/%Y}" in corps
    assert "Q.W." not in corps and "47" not in corps.split("avant le")[0]
    # The review page shows the pending request and no longer offers a second one.
    page = html(client_ansm.get(f"/ansm/demandes/{demande.reference}/"))
    assert 'data-destinataire="laboratoire"' in page and "En attente de réponse" in page
    assert 'data-action="interroger_laboratoire"' not in page


def test_r16_pas_de_demande_au_laboratoire_pour_une_indication_referencee(evaluateur):
    referencee = DemandeFactory(en_evaluation=True)
    with pytest.raises(DemandeError, match=r"médicament non référencé ou une indication nouvelle.*\(R16\)"):
        demander(referencee, evaluateur)
    assert not Complement.objects.filter(demande=referencee).exists()


def test_r16_au_moins_une_piece_connue_une_date_limite_et_une_demande_a_la_fois(evaluateur, demande):
    with pytest.raises(DemandeError, match=r"Cochez au moins une pièce"):
        demander(demande, evaluateur, pieces=[])
    with pytest.raises(DemandeError, match="Pièce inconnue : brochure_marketing"):
        demander(demande, evaluateur, pieces=["brochure_marketing"])
    with pytest.raises(DemandeError, match="date limite"):
        demander(demande, evaluateur, date_limite=timezone.localdate())
    demander(demande, evaluateur)
    demande.refresh_from_db()
    with pytest.raises(DemandeError, match="Une question est déjà en attente de réponse"):
        demander(demande, evaluateur)
    # The PUI may still be asked meanwhile (another addressee).
    services.complement_demander(
        demande=demande, par=evaluateur, version=demande.version, question="Bilan ?", date_limite=dans(5)
    )


def test_r16_une_demande_au_laboratoire_sans_piece_est_refusee_par_la_base(evaluateur, demande):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Complement.objects.create(
            demande=demande,
            destinataire=DestinataireComplement.LABORATOIRE,
            laboratoire=demande.specialite.titulaire,
            question="?",
            date_limite=dans(5),
            demande_par=evaluateur,
        )


def test_la_pui_et_le_prescripteur_ne_lisent_pas_l_echange_avec_le_laboratoire(client, evaluateur, demande):
    complement = demander(demande, evaluateur)
    utilisateur = UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    services.complement_laboratoire_repondre(
        complement=complement,
        par=LaboratoireUtilisateurFactory(laboratoire=complement.laboratoire),
        reponse="Brochure confidentielle jointe.",
        fichiers=[SimpleUploadedFile("brochure.pdf", pdf_minimal("IB"), content_type="application/pdf")],
    )
    piece = PieceJointe.objects.get(complement=complement)
    for partie in (demande.prescripteur, utilisateur):
        connecter(client, partie)
        page = html(client.get(f"/demandes/{demande.reference}/"))
        assert "Brochure confidentielle jointe." not in page and "Précisez les données chez l" not in page
        assert "brochure.pdf" not in page
        assert client.get(f"/demandes/{demande.reference}/pieces/{piece.pk}/").status_code == 404
        api = client.get(f"/api/v1/demandes/{demande.reference}/").json()
        assert api["complements"] == []
        # The timeline says the laboratory was asked and answered (why the decision takes time), nothing more.
        assert [e["transition"] for e in api["journal"]][-2:] == ["interroger_laboratoire", "repondre_laboratoire"]


# --- The laboratory answers, from its space ---------------------------------------------------------------------


@pytest.fixture
def client_labo(client, laboratoire):
    connecter(client, LaboratoireUtilisateurFactory(laboratoire=laboratoire, email="pv@alpha.example"))
    return client


def test_r16_le_laboratoire_voit_ses_demandes_d_information_sans_donnees_du_patient(client_labo, evaluateur, demande):
    complement = demander(demande, evaluateur)
    autre = DemandeFactory(non_reference=True, en_evaluation=True)
    demander(autre, evaluateur, laboratoire=LaboratoireFactory(nom="Laboratoire Beta"))

    reponse = client_labo.get("/laboratoire/informations/")
    page = html(reponse)
    assert reponse.status_code == 200
    sans_inline(page)
    ligne = page.split(f'<tr id="information-{complement.pk}">')[1].split("</tr>")[0]
    assert f'<a href="/laboratoire/informations/{complement.pk}/">{demande.reference}</a>' in ligne
    assert f"<td>{demande.specialite.nom}</td>" in ligne
    assert "<li>Projet de PUT-SP</li>" in ligne
    assert "brochure pour l&#x27;investigateur, IMPD" in ligne
    assert f"<td>{dans(15):%d/%m/%Y}" in ligne
    assert "En attente de votre réponse" in ligne
    # Only its own products' requests; never the patient, the prescriber or the establishment.
    assert autre.reference not in page
    for donnee in ("Q.W.", "47 ans", "Féminin", "62,5", demande.prescripteur.nom, demande.etablissement.nom):
        assert donnee not in page
    detail = html(client_labo.get(f"/laboratoire/informations/{complement.pk}/"))
    assert "<li>Projet de PUT-SP</li>" in detail and "Précisez les données chez l&#x27;enfant." in detail
    for donnee in ("Q.W.", "47 ans", "Féminin", "62,5", demande.prescripteur.nom, demande.etablissement.nom):
        assert donnee not in detail
    # The laboratory still cannot open the request itself.
    assert client_labo.get(f"/demandes/{demande.reference}/").status_code == 404


def test_r16_le_laboratoire_repond_avec_des_documents_et_l_evaluateur_les_lit(
    client_labo, client, evaluateur, demande, laboratoire
):
    complement = demander(demande, evaluateur)
    demande.refresh_from_db()
    version = demande.version
    reponse = client_labo.post(
        f"/laboratoire/informations/{complement.pk}/",
        {
            "reponse": "Brochure et projet de PUT-SP joints ; pas d'essai commercial en France.",
            "fichiers": [
                SimpleUploadedFile("brochure.pdf", pdf_minimal("Brochure"), content_type="application/pdf"),
                SimpleUploadedFile("courbe.png", png_minimal(), content_type="image/png"),
            ],
        },
    )
    assert reponse.status_code == 302 and reponse.url == "/laboratoire/informations/"
    complement.refresh_from_db()
    assert complement.repondu_le is not None and complement.repondu_par.laboratoire == laboratoire
    pieces = list(PieceJointe.objects.filter(complement=complement).order_by("id"))
    assert [(p.nom, p.type_mime) for p in pieces] == [("brochure.pdf", "application/pdf"), ("courbe.png", "image/png")]
    demande.refresh_from_db()
    # The answer adds to the file: the request's state and version stay (nobody's input is overwritten).
    assert (demande.statut, demande.version) == (StatutDemande.EN_EVALUATION, version)
    evenement = demande.journal.get(transition="repondre_laboratoire")
    assert (evenement.role, evenement.acteur_id) == ("laboratoire", complement.repondu_par_id)
    assert evenement.details == {"complement": complement.pk, "pieces": [p.pk for p in pieces]}
    assert evenement.commentaire == "Laboratoire Alpha a répondu (2 documents)."
    courriel = Notification.objects.get(destinataire=evaluateur.email, sujet__startswith="Réponse du laboratoire")
    assert f"https://referentiel-ad.example/ansm/demandes/{demande.reference}/" in courriel.corps
    # The list now shows it answered (all tab) and no longer awaited.
    assert f'id="information-{complement.pk}"' not in html(client_labo.get("/laboratoire/informations/"))
    assert "Répondu le" in html(client_labo.get("/laboratoire/informations/", {"etat": "toutes"}))

    connecter(client, evaluateur)
    page = html(client.get(f"/ansm/demandes/{demande.reference}/"))
    bloc = page.split(f'id="complement-{complement.pk}"')[1].split("</div>")[0]
    assert "Brochure et projet de PUT-SP joints ; pas d&#x27;essai commercial en France." in bloc
    assert f'href="/demandes/{demande.reference}/pieces/{pieces[0].pk}/">brochure.pdf</a>' in bloc
    telechargement = client.get(f"/demandes/{demande.reference}/pieces/{pieces[0].pk}/")
    assert telechargement.status_code == 200
    assert b"".join(telechargement.streaming_content).startswith(b"%PDF-")


def test_r16_un_fichier_qui_n_est_pas_un_document_est_refuse(client_labo, evaluateur, demande):
    complement = demander(demande, evaluateur)
    reponse = client_labo.post(
        f"/laboratoire/informations/{complement.pk}/",
        {
            "reponse": "Voir pièce.",
            "fichiers": [
                SimpleUploadedFile("brochure.pdf", b"#!/bin/sh\necho pirate\n", content_type="application/pdf")
            ],
        },
    )
    page = html(reponse)
    assert reponse.status_code == 400
    assert "n&#x27;est pas un PDF, un PNG ou un JPEG" in page
    complement.refresh_from_db()
    assert complement.repondu_le is None and not PieceJointe.objects.filter(complement=complement).exists()
    assert not demande.journal.filter(transition="repondre_laboratoire").exists()


def test_r16_un_autre_laboratoire_recoit_un_404(client, evaluateur, demande):
    complement = demander(demande, evaluateur)
    connecter(client, LaboratoireUtilisateurFactory(laboratoire=LaboratoireFactory(nom="Laboratoire Beta")))
    assert client.get(f"/laboratoire/informations/{complement.pk}/").status_code == 404
    reponse = client.post(f"/laboratoire/informations/{complement.pk}/", {"reponse": "Intrusion."})
    assert reponse.status_code == 404
    complement.refresh_from_db()
    assert complement.repondu_le is None
    assert f"informations/{complement.pk}/" not in html(client.get("/laboratoire/informations/?etat=toutes"))


def test_r16_le_service_refuse_un_autre_laboratoire_et_les_autres_roles(evaluateur, demande):
    complement = demander(demande, evaluateur)
    with pytest.raises(TransitionInterdite, match="ne concerne pas votre laboratoire"):
        services.complement_laboratoire_repondre(
            complement=complement, par=LaboratoireUtilisateurFactory(), reponse="Intrusion."
        )
    with pytest.raises(TransitionInterdite):
        services.complement_laboratoire_repondre(complement=complement, par=evaluateur, reponse="Moi.")


@pytest.mark.parametrize("trait", ["prescripteur", "pharmacien", "evaluateur"])
def test_les_autres_roles_n_ouvrent_pas_les_demandes_d_information(client, evaluateur, demande, trait):
    complement = demander(demande, evaluateur)
    connecter(client, UtilisateurFactory(**{trait: True}))
    assert client.get("/laboratoire/informations/").status_code == 403
    assert client.get(f"/laboratoire/informations/{complement.pk}/").status_code == 403


def test_r16_une_demande_decidee_n_attend_plus_de_reponse(client_labo, evaluateur, demande):
    complement = demander(demande, evaluateur)
    demande.refresh_from_db()
    services.demande_refuser(demande=demande, par=evaluateur, version=demande.version, motif="investigation")
    page = html(client_labo.get(f"/laboratoire/informations/{complement.pk}/"))
    assert '<p id="information-close">' in page and "<form" not in page.split("<main")[1].split("</main>")[0]
    reponse = client_labo.post(f"/laboratoire/informations/{complement.pk}/", {"reponse": "Trop tard."}, follow=True)
    assert "<p>Cette demande d'information n'attend plus de réponse.</p>" in html(reponse)
    with pytest.raises(ConflitEtat, match="plus en cours d'instruction"):
        services.complement_laboratoire_repondre(
            complement=complement, par=LaboratoireUtilisateurFactory(laboratoire=complement.laboratoire), reponse="!"
        )
    complement.refresh_from_db()
    assert complement.repondu_le is None
    assert "Close (demande décidée ou annulée)" in html(client_labo.get("/laboratoire/informations/?etat=toutes"))


def _informations(evaluateur, laboratoire, nombre):
    for _ in range(nombre):
        demande = DemandeFactory(hors_indication=True, en_evaluation=True, specialite__titulaire=laboratoire)
        demander(demande, evaluateur)


def test_le_nombre_de_requetes_de_la_liste_du_laboratoire_est_constant(
    client_labo, evaluateur, laboratoire, django_assert_num_queries
):
    _informations(evaluateur, laboratoire, 2)
    client_labo.get("/laboratoire/informations/")
    # Session, user, its laboratory; the page's count and rows; the session saved (savepoint, update, release).
    with django_assert_num_queries(8):
        client_labo.get("/laboratoire/informations/")
    _informations(evaluateur, laboratoire, 10)
    with django_assert_num_queries(8):
        page = html(client_labo.get("/laboratoire/informations/"))
    assert page.count('<tr id="information-') == 12
