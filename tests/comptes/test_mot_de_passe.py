"""Password reset by email and password change (issue 2), with the account journal (issue 7)."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from comptes.enums import TypeEvenementCompte
from comptes.models import EvenementCompte
from tests.factories import UtilisateurFactory
from tests.factories.comptes import MOT_DE_PASSE

pytestmark = pytest.mark.django_db

NOUVEAU = "Une phrase de passe toute neuve 2026"


def _lien_du_courriel() -> str:
    assert len(mail.outbox) == 1
    return re.search(r"http://testserver(/comptes/mot-de-passe/reinitialiser/\S+/)", mail.outbox[0].body).group(1)


def test_reinitialisation_par_courriel_en_francais_de_bout_en_bout(client):
    utilisateur = UtilisateurFactory(prescripteur=True, email="claire.martin@chu.example")

    reponse = client.post(reverse("comptes:mot_de_passe_oublie"), {"email": "Claire.Martin@CHU.example"})

    assert reponse.status_code == 302 and reponse.url == reverse("comptes:mot_de_passe_oublie_envoye")
    courriel = mail.outbox[0]
    assert courriel.to == ["claire.martin@chu.example"]
    assert courriel.subject == "Réinitialisation de votre mot de passe — Référentiel AD"
    assert "valable une heure, utilisable une seule fois" in courriel.body
    assert "Si vous n'êtes pas à l'origine de cette demande" in courriel.body

    formulaire = client.get(_lien_du_courriel(), follow=True)
    assert "Choisir un nouveau mot de passe" in formulaire.content.decode()
    reponse = client.post(
        formulaire.redirect_chain[-1][0], {"new_password1": NOUVEAU, "new_password2": NOUVEAU}, follow=True
    )
    assert "Votre nouveau mot de passe est enregistré." in reponse.content.decode()
    utilisateur.refresh_from_db()
    assert utilisateur.check_password(NOUVEAU)
    evenement = EvenementCompte.objects.get(utilisateur=utilisateur)
    assert evenement.type == TypeEvenementCompte.MOT_DE_PASSE_REINITIALISE
    assert evenement.adresse_ip == "127.0.0.1"
    # The link served once.
    assert "Lien invalide ou expiré" in client.get(_lien_du_courriel(), follow=True).content.decode()


def test_une_adresse_inconnue_recoit_la_meme_reponse_sans_courriel(client):
    reponse = client.post(reverse("comptes:mot_de_passe_oublie"), {"email": "inconnu@exemple.fr"}, follow=True)
    assert "Si un compte actif correspond à cette adresse" in reponse.content.decode()
    assert mail.outbox == []


def test_le_lien_expire_apres_une_heure(client):
    debut = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 0))
    UtilisateurFactory(pharmacien=True, email="ph@chu.example")
    with time_machine.travel(debut, tick=False):
        client.post(reverse("comptes:mot_de_passe_oublie"), {"email": "ph@chu.example"})
    with time_machine.travel(debut + datetime.timedelta(minutes=61), tick=False):
        page = client.get(_lien_du_courriel(), follow=True).content.decode()
    assert "Lien invalide ou expiré" in page
    assert 'name="new_password1"' not in page


def test_la_reinitialisation_leve_le_verrouillage_du_compte(client, settings):
    utilisateur = UtilisateurFactory(prescripteur=True, email="dr@chu.example")
    connexion = reverse("comptes:connexion")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(connexion, {"username": "dr@chu.example", "password": "faux"})
    assert client.post(connexion, {"username": "dr@chu.example", "password": MOT_DE_PASSE}).status_code == 429

    client.post(reverse("comptes:mot_de_passe_oublie"), {"email": "dr@chu.example"})
    formulaire = client.get(_lien_du_courriel(), follow=True)
    client.post(formulaire.redirect_chain[-1][0], {"new_password1": NOUVEAU, "new_password2": NOUVEAU})

    reponse = client.post(connexion, {"username": "dr@chu.example", "password": NOUVEAU})
    assert reponse.status_code == 302
    assert client.session["_auth_user_id"] == str(utilisateur.pk)


def test_changement_de_mot_de_passe_garde_la_session_et_le_journalise(client):
    utilisateur = UtilisateurFactory(laboratoire_role=True)
    client.force_login(utilisateur)
    url = reverse("comptes:changement_mot_de_passe")

    refus = client.post(url, {"old_password": "faux", "new_password1": NOUVEAU, "new_password2": NOUVEAU})
    assert "Votre ancien mot de passe est incorrect" in refus.content.decode()

    reponse = client.post(
        url, {"old_password": MOT_DE_PASSE, "new_password1": NOUVEAU, "new_password2": NOUVEAU}, follow=True
    )
    assert reponse.redirect_chain == [(reverse("comptes:mon_compte"), 302)]
    assert "Votre mot de passe a été modifié." in reponse.content.decode()
    utilisateur.refresh_from_db()
    assert utilisateur.check_password(NOUVEAU)
    assert EvenementCompte.objects.get(utilisateur=utilisateur).type == TypeEvenementCompte.MOT_DE_PASSE_MODIFIE


def test_un_mot_de_passe_trop_court_est_refuse_avec_la_regle(client):
    client.force_login(UtilisateurFactory(prescripteur=True))
    reponse = client.post(
        reverse("comptes:changement_mot_de_passe"),
        {"old_password": MOT_DE_PASSE, "new_password1": "court1", "new_password2": "court1"},
    )
    assert "Ce mot de passe est trop court. Il doit contenir au minimum 12 caractères." in reponse.content.decode()


def test_le_changement_de_mot_de_passe_demande_d_etre_connecte(client):
    reponse = client.get(reverse("comptes:changement_mot_de_passe"))
    assert reponse.status_code == 302
    assert reponse.url.startswith(reverse("comptes:connexion"))
