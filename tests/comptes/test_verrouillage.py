import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import UtilisateurFactory
from tests.factories.comptes import MOT_DE_PASSE

pytestmark = pytest.mark.django_db


def test_connexion_reussie_puis_deconnexion(client):
    UtilisateurFactory(email="eva@ansm.example", evaluateur=True)
    reponse = client.post(reverse("comptes:connexion"), {"username": "eva@ansm.example", "password": MOT_DE_PASSE})
    assert reponse.status_code == 302
    assert "_auth_user_id" in client.session
    client.post(reverse("comptes:deconnexion"))
    assert "_auth_user_id" not in client.session


def test_mauvais_mot_de_passe_message_en_francais(client):
    UtilisateurFactory(email="eva@ansm.example", evaluateur=True)
    reponse = client.post(reverse("comptes:connexion"), {"username": "eva@ansm.example", "password": "faux"})
    assert reponse.status_code == 200
    assert "Adresse électronique ou mot de passe incorrect" in reponse.content.decode()
    assert "_auth_user_id" not in client.session


def test_verrouillage_apres_cinq_echecs_meme_avec_le_bon_mot_de_passe(client, settings):
    UtilisateurFactory(email="eva@ansm.example", evaluateur=True)
    url = reverse("comptes:connexion")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": "eva@ansm.example", "password": "faux"})
    reponse = client.post(url, {"username": "eva@ansm.example", "password": MOT_DE_PASSE})
    assert reponse.status_code == 429
    assert "verrouillé" in reponse.content.decode()
    assert "_auth_user_id" not in client.session


def test_la_page_de_verrouillage_explique_en_francais_la_duree_et_la_sortie(client, settings):
    UtilisateurFactory(email="dr@chu.example", prescripteur=True)
    url = reverse("comptes:connexion")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": "dr@chu.example", "password": "faux"})
    html = client.post(url, {"username": "dr@chu.example", "password": "faux"}).content.decode()
    assert "<h1>Compte temporairement verrouillé</h1>" in html
    assert "Après 5 essais infructueux pour ce compte depuis votre adresse, la connexion est bloquée" in html
    assert "pendant 30 minutes ; chaque nouvel essai relance ce délai." in html
    assert f'href="{reverse("comptes:mot_de_passe_oublie")}">Réinitialiser mon mot de passe</a>' in html
    assert 'class="fr-header"' in html


def test_changer_la_casse_de_l_adresse_ne_contourne_pas_le_verrouillage(client, settings):
    UtilisateurFactory(email="eva@ansm.example", evaluateur=True)
    url = reverse("comptes:connexion")
    variantes = ["eva@ansm.example", "Eva@ansm.example", "EVA@ANSM.EXAMPLE", "eva@Ansm.example", "EvA@ansm.example"]
    for variante in variantes:
        client.post(url, {"username": variante, "password": "faux"})
    reponse = client.post(url, {"username": "eVa@ansm.example", "password": MOT_DE_PASSE})
    assert reponse.status_code == 429
    assert "_auth_user_id" not in client.session


def test_le_verrouillage_vise_le_couple_compte_et_adresse_ip(client, settings):
    utilisateur = UtilisateurFactory(email="eva@ansm.example", evaluateur=True)
    url = reverse("comptes:connexion")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": "eva@ansm.example", "password": "faux"}, REMOTE_ADDR="203.0.113.7")
    # The attacker's address is locked out; the agent at their own desk still logs in.
    bloque = client.post(url, {"username": "eva@ansm.example", "password": MOT_DE_PASSE}, REMOTE_ADDR="203.0.113.7")
    assert bloque.status_code == 429
    reponse = client.post(url, {"username": "eva@ansm.example", "password": MOT_DE_PASSE}, REMOTE_ADDR="10.1.2.3")
    assert reponse.status_code == 302
    assert client.session["_auth_user_id"] == str(utilisateur.pk)


def test_le_verrouillage_cesse_apres_le_delai_de_refroidissement(client, settings):
    utilisateur = UtilisateurFactory(email="eva@ansm.example", evaluateur=True)
    url = reverse("comptes:connexion")
    debut = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 0))
    with time_machine.travel(debut, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post(url, {"username": "eva@ansm.example", "password": "faux"})
    with time_machine.travel(debut + datetime.timedelta(minutes=29), tick=False):
        assert client.post(url, {"username": "eva@ansm.example", "password": MOT_DE_PASSE}).status_code == 429
    # An attempt during the lockout starts the 30 minutes again: hammering the form never gets through.
    with time_machine.travel(debut + datetime.timedelta(minutes=29 + 29), tick=False):
        assert client.post(url, {"username": "eva@ansm.example", "password": MOT_DE_PASSE}).status_code == 429
    with time_machine.travel(debut + datetime.timedelta(minutes=29 + 29 + 31), tick=False):
        reponse = client.post(url, {"username": "eva@ansm.example", "password": MOT_DE_PASSE})
        assert reponse.status_code == 302
        assert client.session["_auth_user_id"] == str(utilisateur.pk)


def test_derriere_le_proxy_les_echecs_comptent_pour_l_adresse_du_client_et_non_celle_du_proxy(client, settings):
    """BEHIND_PROXY: each client's failures lock that client out, not everyone who comes through the proxy."""
    settings.AXES_CLIENT_IP_CALLABLE = "comptes.verrouillage.adresse_client"
    UtilisateurFactory(email="eva@ansm.example", evaluateur=True)
    url = reverse("comptes:connexion")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            url, {"username": "eva@ansm.example", "password": "faux"}, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy
        )
    bloque = client.post(
        url, {"username": "eva@ansm.example", "password": MOT_DE_PASSE}, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy
    )
    assert bloque.status_code == 429
    # The real owner, elsewhere, still logs in; a forged first entry does not choose the counted address.
    autre = client.post(
        url,
        {"username": "eva@ansm.example", "password": MOT_DE_PASSE},
        HTTP_X_FORWARDED_FOR="203.0.113.7, 198.51.100.20",
        **proxy,
    )
    assert autre.status_code == 302 and "_auth_user_id" in client.session
