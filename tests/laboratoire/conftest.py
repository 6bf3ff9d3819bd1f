"""Fixtures of the laboratory space tests: a laboratory, one of its accounts logged in, its product and another's."""

import pytest

from tests.conftest import connecter
from tests.factories import LaboratoireFactory, UtilisateurFactory
from tests.factories.gestion import LaboratoireUtilisateurFactory


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def laboratoire(db):
    return LaboratoireFactory(nom="Laboratoire Alpha", email="contact@alpha.example")


@pytest.fixture
def utilisateur_labo(laboratoire):
    return LaboratoireUtilisateurFactory(laboratoire=laboratoire, email="pv@alpha.example")


@pytest.fixture
def client_labo(client, utilisateur_labo):
    connecter(client, utilisateur_labo)
    return client


@pytest.fixture
def evaluateur(db):
    return UtilisateurFactory(evaluateur=True)
