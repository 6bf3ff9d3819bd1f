"""The ANSM administrators' back-office: accounts by role, the email outbox, second-factor resets."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from comptes.enums import Role, TypeEvenementCompte
from comptes.models import EvenementCompte, Notification, Utilisateur
from tests.conftest import connecter
from tests.factories import EtablissementFactory, PUIFactory, UtilisateurFactory

pytestmark = pytest.mark.django_db

ENVOYE_LE = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def admin_client(client):
    connecter(client, UtilisateurFactory(administrateur=True, email="anne@ansm.example"))
    return client


def _fieldsets(html: str) -> dict[str, list[str]]:
    """Legend of each admin fieldset -> the names of the fields it holds."""
    resultat = {}
    for bloc in re.findall(r"<fieldset.*?</fieldset>", html, flags=re.S):
        legende = re.search(r"<(?:legend|h2)[^>]*>(.*?)</(?:legend|h2)>", bloc, flags=re.S)
        titre = re.sub(r"<[^>]+>", "", legende.group(1)).strip() if legende else ""
        resultat[titre] = re.findall(r'<div class="form-row field-(\w+)', bloc)
    return resultat


def test_la_fiche_d_un_prescripteur_montre_d_abord_son_rpps_et_son_etablissement(admin_client):
    prescripteur = UtilisateurFactory(prescripteur=True)
    html = admin_client.get(reverse("admin:comptes_utilisateur_change", args=[prescripteur.pk])).content.decode()
    blocs = _fieldsets(html)
    assert blocs["Rôle : Prescripteur"] == ["role", "rpps", "etablissement"]
    assert blocs["Autres rattachements"] == ["pui", "laboratoire"]


def test_la_fiche_d_un_evaluateur_n_a_pas_de_rattachement(admin_client):
    evaluateur = UtilisateurFactory(evaluateur=True)
    html = admin_client.get(reverse("admin:comptes_utilisateur_change", args=[evaluateur.pk])).content.decode()
    blocs = _fieldsets(html)
    assert blocs["Rôle : Évaluateur ANSM"] == ["role"]
    assert blocs["Autres rattachements"] == ["rpps", "etablissement", "pui", "laboratoire"]


def _donnees_fiche(utilisateur, **changements) -> dict:
    donnees = {
        "email": utilisateur.email,
        "prenom": utilisateur.prenom,
        "nom": utilisateur.nom,
        "fonction": "",
        "telephone": "",
        "role": utilisateur.role,
        "rpps": utilisateur.rpps or "",
        "etablissement": utilisateur.etablissement_id or "",
        "pui": utilisateur.pui_id or "",
        "laboratoire": utilisateur.laboratoire_id or "",
        "is_active": "on",
        "date_joined_0": "02/03/2026",
        "date_joined_1": "09:00:00",
    }
    donnees.update(changements)
    return {cle: valeur for cle, valeur in donnees.items() if valeur is not None}


def test_passer_un_prescripteur_pharmacien_sans_pui_donne_le_message_de_la_contrainte(admin_client):
    prescripteur = UtilisateurFactory(prescripteur=True)
    url = reverse("admin:comptes_utilisateur_change", args=[prescripteur.pk])
    reponse = admin_client.post(url, _donnees_fiche(prescripteur, role=Role.PHARMACIEN))
    assert reponse.status_code == 200
    assert "Un pharmacien doit être rattaché à une PUI." in reponse.content.decode()
    prescripteur.refresh_from_db()
    assert prescripteur.role == Role.PRESCRIPTEUR


def test_passer_un_prescripteur_pharmacien_avec_sa_pui(admin_client):
    pui = PUIFactory()
    prescripteur = UtilisateurFactory(prescripteur=True, etablissement=pui.etablissement)
    url = reverse("admin:comptes_utilisateur_change", args=[prescripteur.pk])
    reponse = admin_client.post(url, _donnees_fiche(prescripteur, role=Role.PHARMACIEN, pui=pui.pk))
    assert reponse.status_code == 302
    prescripteur.refresh_from_db()
    assert prescripteur.role == Role.PHARMACIEN and prescripteur.pui == pui


def test_creer_un_compte_depuis_l_administration(admin_client):
    etablissement = EtablissementFactory()
    reponse = admin_client.post(
        reverse("admin:comptes_utilisateur_add"),
        {
            "email": "Nouveau.Medecin@CHU.example",
            "role": Role.PRESCRIPTEUR,
            "prenom": "Jeanne",
            "nom": "Roux",
            "rpps": "10003650719",
            "etablissement": etablissement.pk,
            "usable_password": "true",
            "password1": "Une phrase de passe solide 2026",
            "password2": "Une phrase de passe solide 2026",
        },
    )
    assert reponse.status_code == 302, reponse.content.decode()
    utilisateur = Utilisateur.objects.get(email="nouveau.medecin@chu.example")
    assert utilisateur.etablissement == etablissement and utilisateur.check_password("Une phrase de passe solide 2026")


def test_un_rpps_faux_est_refuse_dans_l_administration(admin_client):
    reponse = admin_client.post(
        reverse("admin:comptes_utilisateur_add"),
        {
            "email": "dr@chu.example",
            "role": Role.PRESCRIPTEUR,
            "rpps": "10003650718",
            "etablissement": EtablissementFactory().pk,
            "usable_password": "false",
        },
    )
    assert "sa clé de contrôle (dernier chiffre) ne correspond pas" in reponse.content.decode()
    assert not Utilisateur.objects.filter(email="dr@chu.example").exists()


@pytest.mark.parametrize("nombre", [2, 6])
def test_la_liste_des_comptes_a_un_nombre_de_requetes_fixe(admin_client, django_assert_num_queries, nombre):
    for _ in range(nombre):
        UtilisateurFactory(prescripteur=True)
        UtilisateurFactory(laboratoire_role=True)
    # session, user, its device, count x2, page of accounts (device flag annotated), filters, save of the session.
    with django_assert_num_queries(10):
        reponse = admin_client.get(reverse("admin:comptes_utilisateur_changelist"))
    assert reponse.status_code == 200


def test_reinitialiser_le_second_facteur_d_un_agent(admin_client):
    evaluateur = UtilisateurFactory(evaluateur=True, email="eva@ansm.example")
    TOTPDevice.objects.create(user=evaluateur, name="Téléphone perdu", confirmed=True)
    reponse = admin_client.post(
        reverse("admin:comptes_utilisateur_changelist"),
        {"action": "reinitialiser_second_facteur", "_selected_action": [evaluateur.pk]},
        follow=True,
    )
    assert "Second facteur réinitialisé pour 1 compte(s)" in reponse.content.decode()
    assert not TOTPDevice.objects.filter(user=evaluateur).exists()
    evenement = EvenementCompte.objects.get(utilisateur=evaluateur)
    assert evenement.type == TypeEvenementCompte.DOUBLE_FACTEUR_REINITIALISE
    assert evenement.auteur.email == "anne@ansm.example"
    assert evenement.details == {"appareils_supprimes": 1}


def test_les_echecs_d_envoi_sont_visibles_et_la_boite_d_envoi_en_lecture_seule(admin_client):
    Notification.objects.create(
        destinataire="pui@chu.example",
        sujet="Demande transmise",
        corps="Bonjour",
        tentatives=3,
        derniere_erreur="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    Notification.objects.create(destinataire="ok@chu.example", sujet="Envoyé", corps="…", envoye_le=ENVOYE_LE)
    liste = admin_client.get(reverse("admin:comptes_notification_changelist"), {"etat": "en_echec"}).content.decode()
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in liste
    assert '<td class="field-tentatives">3</td>' in liste
    assert "ok@chu.example" not in liste
    assert admin_client.get(reverse("admin:comptes_notification_add")).status_code == 403
    notification = Notification.objects.get(destinataire="pui@chu.example")
    fiche = admin_client.get(reverse("admin:comptes_notification_change", args=[notification.pk])).content.decode()
    assert 'name="destinataire"' not in fiche and "pui@chu.example" in fiche


def test_relancer_l_envoi_depuis_l_administration(admin_client, django_capture_on_commit_callbacks):
    en_echec = Notification.objects.create(
        destinataire="pui@chu.example", sujet="Demande transmise", corps="Bonjour", tentatives=8, derniere_erreur="X"
    )
    deja = Notification.objects.create(destinataire="ok@chu.example", sujet="Envoyé", corps="…", envoye_le=ENVOYE_LE)
    with django_capture_on_commit_callbacks(execute=True):
        reponse = admin_client.post(
            reverse("admin:comptes_notification_changelist"),
            {"action": "relancer_envoi", "_selected_action": [en_echec.pk, deja.pk]},
            follow=True,
        )
    assert "1 courriel(s) remis dans la file d&#x27;envoi." in reponse.content.decode()
    assert [m.to for m in mail.outbox] == [["pui@chu.example"]]
    en_echec.refresh_from_db()
    assert en_echec.envoye_le is not None and en_echec.derniere_erreur == "" and en_echec.tentatives == 9


def test_le_journal_des_comptes_se_consulte_et_se_cherche(admin_client):
    evaluateur = UtilisateurFactory(evaluateur=True, email="eva@ansm.example")
    EvenementCompte.objects.create(utilisateur=evaluateur, type=TypeEvenementCompte.DOUBLE_FACTEUR_ECHEC)
    html = admin_client.get(reverse("admin:comptes_evenementcompte_changelist"), {"q": "eva@ansm"}).content.decode()
    assert "Code de second facteur refusé" in html
    assert admin_client.get(reverse("admin:comptes_evenementcompte_add")).status_code == 403
