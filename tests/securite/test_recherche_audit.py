"""Issue 7: ANSM administrators search the audit trail and the log of patient-data reads, and download them as
CSV; each download is journaled as a patient-data export. Évaluateurs and everyone else get a 403."""

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from comptes import audit
from comptes.enums import TypeEvenementCompte
from comptes.models import EvenementCompte, JournalAudit
from demandes import services
from demandes.enums import CanalAcces
from demandes.models import DemandeAAC
from tests.conftest import connecter
from tests.factories import DemandeFactory, UtilisateurFactory

pytestmark = pytest.mark.django_db

ROUTES = ["ansm:audit", "ansm:audit_export", "ansm:audit_acces", "ansm:audit_acces_export"]


@pytest.fixture
def administrateur(client):
    return connecter(client, UtilisateurFactory(administrateur=True, email="admin@ansm.example"))


def _nombre(html: str) -> str:
    """The heading that counts the rows found, e.g. "3 écritures"."""
    trouve = re.search(r'id="nombre-lignes">\s*(.*?)\s*</h2>', html, re.S)
    assert trouve, "titre du nombre de lignes absent"
    return trouve.group(1)


def _modifier(demande, **donnees):
    """The prescriber saves a step of the draft (attributed to them, as their request would be)."""
    with audit.acteur(demande.prescripteur):
        services.demande_modifier(demande=demande, par=demande.prescripteur, version=demande.version, donnees=donnees)


def _csv(reponse) -> list[list[str]]:
    texte = b"".join(reponse.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(texte), delimiter=";"))


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("role", ["evaluateur", "prescripteur", "pharmacien", "laboratoire_role"])
def test_seuls_les_administrateurs_ouvrent_les_journaux(client, route, role):
    DemandeFactory()
    connecter(client, UtilisateurFactory(**{role: True}))
    reponse = client.get(reverse(route))
    assert reponse.status_code == 403
    assert "journal-audit" not in reponse.get("Content-Disposition", "")
    assert not EvenementCompte.objects.filter(type=TypeEvenementCompte.EXPORT_DONNEES_PATIENTS).exists()


@pytest.mark.parametrize("route", ROUTES)
def test_un_visiteur_est_envoye_a_la_connexion(client, route):
    reponse = client.get(reverse(route))
    assert reponse.status_code == 302 and reponse["Location"].startswith(reverse("comptes:connexion"))


def test_l_administrateur_retrouve_les_ecritures_d_une_demande_avec_avant_apres_et_auteur(client, administrateur):
    demande = DemandeFactory()
    autre = DemandeFactory()
    _modifier(demande, posologie="Une prise")

    reponse = client.get(reverse("ansm:audit"), {"reference": demande.reference.lower(), "operation": "UPDATE"})
    html = reponse.content.decode()
    assert reponse.status_code == 200
    ligne = JournalAudit.objects.get(demande_reference=demande.reference, operation="UPDATE")
    assert _nombre(html) == "1 écriture"
    assert f'<tr id="audit-{ligne.pk}">' in html
    assert "<code>posologie</code> :" in html and "2 comprimés par jour, matin et soir → Une prise" in html
    assert demande.prescripteur.email in html
    assert autre.reference not in html

    # Without the operation filter: the creation rows of the request and of its attestations too.
    tout = client.get(reverse("ansm:audit"), {"reference": demande.reference}).content.decode()
    creations = JournalAudit.objects.filter(demande_reference=demande.reference, operation="INSERT").count()
    assert creations >= 3  # the request and its two attested criteria
    assert _nombre(tout) == f"{creations + 1} écritures"


def test_filtres_par_table_utilisateur_et_dates(client, administrateur):
    demande = DemandeFactory()
    _modifier(demande, posologie="Une prise")
    aujourd_hui = timezone.localdate()
    url = reverse("ansm:audit")

    par_auteur = client.get(url, {"utilisateur": demande.prescripteur.email.upper()}).content.decode()
    assert _nombre(par_auteur) == "1 écriture"

    attestations = client.get(url, {"table": "demandes_attestationcritere"}).content.decode()
    assert _nombre(attestations) == "2 écritures" and "Attestations de critères" in attestations

    demain, hier = aujourd_hui + datetime.timedelta(days=1), aujourd_hui - datetime.timedelta(days=1)
    assert _nombre(client.get(url, {"du": demain.isoformat()}).content.decode()) == "0 écriture"
    assert _nombre(client.get(url, {"au": hier.isoformat()}).content.decode()) == "0 écriture"
    du_jour = client.get(url, {"du": aujourd_hui.isoformat(), "au": aujourd_hui.isoformat()}).content.decode()
    assert _nombre(du_jour) == f"{JournalAudit.objects.count()} écritures"


def test_une_date_invalide_est_signalee_et_n_exporte_rien(client, administrateur):
    DemandeFactory()
    page = client.get(reverse("ansm:audit"), {"du": "31/02/2026"})
    assert page.status_code == 400
    html = page.content.decode()
    assert 'id="id_du-erreurs">Saisissez une date valide.</p>' in html
    assert 'aria-describedby="id_du-erreurs"' in html
    export = client.get(reverse("ansm:audit_export"), {"du": "31/02/2026"})
    assert export.status_code == 400
    assert not EvenementCompte.objects.filter(type=TypeEvenementCompte.EXPORT_DONNEES_PATIENTS).exists()


@pytest.mark.parametrize("nombre", [3, 30])
def test_la_page_du_journal_tient_en_un_nombre_constant_de_requetes(
    client, administrateur, django_assert_num_queries, nombre
):
    demande = DemandeFactory()
    for i in range(nombre):
        DemandeAAC.objects.filter(pk=demande.pk).update(posologie=f"Posologie {i}")
    # Session, account, its TOTP device, the demonstration banner; the count and the page (authors joined); the
    # session's expiry pushed back (UPDATE in a savepoint: 3 statements).
    with django_assert_num_queries(9):
        reponse = client.get(reverse("ansm:audit"))
    assert reponse.status_code == 200


def test_le_csv_du_journal_contient_les_lignes_filtrees_et_son_telechargement_est_journalise(client, administrateur):
    demande = DemandeFactory(patient_initiales="K.B.")
    _modifier(demande, posologie="Une prise")
    reponse = client.get(reverse("ansm:audit_export"), {"reference": demande.reference})
    assert reponse["Content-Type"] == "text/csv; charset=utf-8"
    lignes = _csv(reponse)
    attendues = JournalAudit.objects.filter(demande_reference=demande.reference).order_by("-id")
    assert lignes[0][:4] == ["N°", "Date", "Table", "Opération"]
    assert [int(ligne[0]) for ligne in lignes[1:]] == [j.pk for j in attendues]
    modification = lignes[1]
    assert modification[3] == "Modification" and modification[5] == demande.reference
    assert modification[6] == demande.prescripteur.email
    assert "K.B." not in "".join(c for ligne in lignes for c in ligne)  # R43: masked in the trail

    evenement = EvenementCompte.objects.get(type=TypeEvenementCompte.EXPORT_DONNEES_PATIENTS)
    assert evenement.utilisateur == administrateur
    assert evenement.details == {
        "journal": "audit",
        "filtres": {"reference": demande.reference, "jusqu_a_id": attendues[0].pk},
        "lignes": len(lignes) - 1,
    }


def test_le_journal_des_acces_aux_donnees_des_patients_se_cherche_et_se_telecharge(client, administrateur):
    demande, autre = DemandeFactory(), DemandeFactory()
    lecteur = demande.prescripteur
    services.acces_donnees_enregistrer(demande=demande, utilisateur=lecteur, canal=CanalAcces.PAGE)
    services.acces_donnees_enregistrer(demande=demande, utilisateur=lecteur, canal=CanalAcces.PDF)
    services.acces_donnees_enregistrer(demande=autre, utilisateur=autre.prescripteur, canal=CanalAcces.API)

    html = client.get(reverse("ansm:audit_acces"), {"reference": demande.reference}).content.decode()
    assert _nombre(html) == "2 accès"
    assert "Décision PDF" in html and autre.reference not in html
    assert _nombre(client.get(reverse("ansm:audit_acces"), {"canal": "api"}).content.decode()) == "1 accès"

    lignes = _csv(client.get(reverse("ansm:audit_acces_export"), {"utilisateur": lecteur.email}))
    assert [ligne[2:] for ligne in lignes[1:]] == [
        [demande.reference, lecteur.email, "Prescripteur", "Décision PDF"],
        [demande.reference, lecteur.email, "Prescripteur", "Page web"],
    ]
    evenement = EvenementCompte.objects.get(type=TypeEvenementCompte.EXPORT_DONNEES_PATIENTS)
    assert evenement.details["journal"] == "acces_donnees_patients"
    assert evenement.details["lignes"] == 2 and evenement.details["filtres"]["utilisateur"] == lecteur.email


@pytest.mark.parametrize("nombre", [2, 25])
def test_la_page_des_acces_tient_en_un_nombre_constant_de_requetes(
    client, administrateur, django_assert_num_queries, nombre
):
    demande = DemandeFactory()
    for _ in range(nombre):
        services.acces_donnees_enregistrer(demande=demande, utilisateur=demande.prescripteur)
    with django_assert_num_queries(9):  # as above, requests and readers joined to the page
        assert client.get(reverse("ansm:audit_acces")).status_code == 200
