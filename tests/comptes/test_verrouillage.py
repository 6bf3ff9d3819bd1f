import pytest
from django.urls import reverse

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
