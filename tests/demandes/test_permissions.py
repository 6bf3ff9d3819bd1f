"""Who sees what: every role, on every request endpoint (pages and API), on a request they are not party to, gets a
404 — never a 403 that would confirm it exists, never its data. Parties see it; laboratories never do."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from comptes.enums import Role
from demandes import services
from demandes.models import AccesDonneesPatient, DemandeAAC, PieceJointe
from tests.conftest import connecter
from tests.factories import DemandeFactory, UtilisateurFactory
from tests.factories.referentiel import pdf_minimal

pytestmark = pytest.mark.django_db

ACTIONS_PAGE = [
    "transmettre",
    "renvoyer",
    "soumettre",
    "demander_complement",
    "repondre_complement",
    "octroyer",
    "refuser",
    "regulariser",
    "annuler",
    "former_recours",
    "renouveler",
]
ETAPES = ["medicament", "indication", "criteres", "patient", "traitement", "engagements", "recapitulatif"]
ACTIONS_API = [
    "transmettre",
    "renvoyer",
    "soumettre",
    "demander-complement",
    "repondre-complement",
    "octroyer",
    "refuser",
    "regulariser",
    "annuler",
    "recours",
    "renouveler",
    "pieces-jointes",
]


def points_d_acces(demande, piece):
    ref = demande.reference
    points = [("page", "get", reverse("demandes:detail", args=[ref]))]
    points += [("page", "get", reverse("demandes:etape", args=[ref, e])) for e in ETAPES]
    points += [("page", "post", reverse("demandes:etape", args=[ref, e])) for e in ETAPES]
    points += [("page", "post", reverse("demandes:action", args=[ref, a])) for a in ACTIONS_PAGE]
    points += [
        ("page", "get", reverse("demandes:decision_pdf", args=[ref])),
        ("page", "post", reverse("demandes:piece_joindre", args=[ref])),
        ("page", "get", reverse("demandes:piece", args=[ref, piece.pk])),
        ("api", "get", f"/api/v1/demandes/{ref}/"),
        ("api", "patch", f"/api/v1/demandes/{ref}/"),
        ("api", "get", f"/api/v1/demandes/{ref}/decision/"),
    ]
    points += [("api", "post", f"/api/v1/demandes/{ref}/{a}/") for a in ACTIONS_API]
    return points


def appeler(client, canal, methode, url, version):
    if methode == "get":
        return client.get(url)
    if canal == "api":
        return getattr(client, methode)(url, {"version": version, "commentaire": "x"}, content_type="application/json")
    donnees = {"version": version}
    for prefixe in ACTIONS_PAGE:
        donnees[f"{prefixe}-version"] = version
    donnees["fichier"] = SimpleUploadedFile("a.pdf", pdf_minimal(), content_type="application/pdf")
    return client.post(url, donnees)


def demande_d_un_autre(role):
    """A request this role is not party to: another prescriber's, another PUI's; for ANSM staff one not yet
    submitted (they see every submitted request)."""
    if role in (Role.EVALUATEUR, Role.ADMINISTRATEUR):
        demande = DemandeFactory(transmise=True)
    else:
        demande = DemandeFactory(octroyee=True)
    piece = PieceJointe.objects.create(
        demande=demande,
        fichier=SimpleUploadedFile("p.pdf", pdf_minimal()),
        nom="p.pdf",
        type_mime="application/pdf",
        taille=10,
        empreinte="0" * 64,
        deposee_par=demande.prescripteur,
    )
    return demande, piece


def utilisateur(role):
    traits = {
        Role.PRESCRIPTEUR: {"prescripteur": True},
        Role.PHARMACIEN: {"pharmacien": True},
        Role.EVALUATEUR: {"evaluateur": True},
        Role.ADMINISTRATEUR: {"administrateur": True},
        Role.LABORATOIRE: {"laboratoire_role": True},
    }
    return UtilisateurFactory(**traits[role])


@pytest.mark.parametrize("role", Role.values)
def test_chaque_role_recoit_une_404_sur_chaque_point_d_acces_d_une_demande_d_autrui(client, role):
    demande, piece = demande_d_un_autre(role)
    avant = DemandeAAC.objects.values("statut", "version").get(pk=demande.pk)
    connecter(client, utilisateur(role))
    codes = {}
    for canal, methode, url in points_d_acces(demande, piece):
        reponse = appeler(client, canal, methode, url, demande.version)
        codes[(methode, url)] = reponse.status_code
        if reponse.status_code == 404 and canal == "api":
            assert reponse.json()["detail"] == "Demande introuvable.", url
    assert set(codes.values()) == {404}, {k: v for k, v in codes.items() if v != 404}
    # Nothing leaked, nothing changed, nothing logged as read.
    assert DemandeAAC.objects.values("statut", "version").get(pk=demande.pk) == avant
    assert not AccesDonneesPatient.objects.filter(demande=demande).exists()
    assert demande.pieces.count() == 1


@pytest.mark.parametrize("role", Role.values)
def test_la_liste_de_l_api_ne_montre_que_les_demandes_dont_on_est_partie(client, role):
    demande, _ = demande_d_un_autre(role)
    connecter(client, utilisateur(role))
    reponse = client.get("/api/v1/demandes/")
    assert reponse.status_code == 200
    assert demande.reference not in reponse.content.decode()


def test_un_anonyme_est_renvoye_a_la_connexion_ou_refuse_par_l_api(client):
    demande, piece = demande_d_un_autre(Role.PRESCRIPTEUR)
    for canal, methode, url in points_d_acces(demande, piece):
        reponse = appeler(client, canal, methode, url, demande.version)
        if canal == "page":
            assert reponse.status_code == 302 and reponse.url.startswith(reverse("comptes:connexion")), url
        else:
            assert reponse.status_code == 403, url
    assert client.get("/api/v1/demandes/").status_code == 403


def test_les_parties_voient_la_demande_et_sa_decision(client):
    demande = DemandeFactory(octroyee=True)
    pharmacien_pui = UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    pharmacien_nomme = UtilisateurFactory(pharmacien=True)  # named on the request, from another PUI since
    DemandeAAC.objects.filter(pk=demande.pk).update(pharmacien=pharmacien_nomme)
    parties = [
        demande.prescripteur,
        pharmacien_pui,
        pharmacien_nomme,
        UtilisateurFactory(evaluateur=True),
        UtilisateurFactory(administrateur=True),
    ]
    for partie in parties:
        connecter(client, partie)
        assert client.get(reverse("demandes:detail", args=[demande.reference])).status_code == 200
        assert client.get(f"/api/v1/demandes/{demande.reference}/").json()["patient_initiales"] == "J.-D."
        pdf = client.get(reverse("demandes:decision_pdf", args=[demande.reference]))
        assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert AccesDonneesPatient.objects.filter(demande=demande).count() == 3 * len(parties)


def test_le_brouillon_reste_prive_au_prescripteur_jusqu_a_sa_transmission(client):
    demande = DemandeFactory()
    pharmacien = UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    connecter(client, pharmacien)
    assert client.get(reverse("demandes:detail", args=[demande.reference])).status_code == 404
    services.demande_transmettre(demande=demande, par=demande.prescripteur, version=demande.version)
    assert client.get(reverse("demandes:detail", args=[demande.reference])).status_code == 200


def test_un_laboratoire_ne_voit_jamais_de_donnees_patient(client):
    demande = DemandeFactory(octroyee=True)
    labo = UtilisateurFactory(laboratoire_role=True, laboratoire=demande.specialite.titulaire)
    connecter(client, labo)
    assert client.get("/api/v1/demandes/").json()["results"] == []
    assert client.get(f"/api/v1/demandes/{demande.reference}/").status_code == 404
    assert client.get(reverse("demandes:espace")).status_code == 403
