"""Issue 7: sessions expire after inactivity (SESSION_COOKIE_AGE, pushed back by every request)."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.conftest import connecter
from tests.factories import UtilisateurFactory

pytestmark = pytest.mark.django_db


def test_la_session_expire_apres_trente_minutes_d_inactivite(client, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    debut = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 0))
    mon_compte = reverse("comptes:mon_compte")
    with time_machine.travel(debut, tick=False):
        connecter(client, UtilisateurFactory(prescripteur=True))
        assert client.get(mon_compte).status_code == 200
    with time_machine.travel(debut + datetime.timedelta(minutes=31), tick=False):
        reponse = client.get(mon_compte)
    assert reponse.status_code == 302
    assert reponse.url == f"{reverse('comptes:connexion')}?next={mon_compte}"


def test_chaque_requete_repousse_l_expiration(client):
    debut = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 0))
    mon_compte = reverse("comptes:mon_compte")
    with time_machine.travel(debut, tick=False):
        connecter(client, UtilisateurFactory(evaluateur=True))
    # Active every 20 minutes for an hour: never logged out, second factor included.
    for minutes in (20, 40, 60):
        with time_machine.travel(debut + datetime.timedelta(minutes=minutes), tick=False):
            assert client.get(mon_compte).status_code == 200


def test_le_cookie_de_session_est_protege(client, settings):
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    connecter(client, UtilisateurFactory(prescripteur=True))
    cookie = client.get(reverse("comptes:mon_compte")).cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == ""  # a browser-session cookie: closing the browser ends the session
