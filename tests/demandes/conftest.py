"""Fixtures of the request tests: uploaded files and decision PDFs go to a temporary MEDIA_ROOT."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from tests.factories import DemandeFactory, UtilisateurFactory

# A Tuesday at 10:00 in Paris: inside the ANSM's working hours (R44), not a public holiday.
HEURES_OUVREES = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=timezone.get_fixed_timezone(60))
# A Saturday at 23:00 in Paris: out of hours.
HORS_HEURES = datetime.datetime(2026, 3, 14, 23, 0, tzinfo=timezone.get_fixed_timezone(60))


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Hundreds of users per run: a fast hasher (the password is not what these tests are about).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "https://referentiel-ad.example"


@pytest.fixture
def heures_ouvrees():
    with time_machine.travel(HEURES_OUVREES, tick=True):
        yield


@pytest.fixture
def hors_heures():
    with time_machine.travel(HORS_HEURES, tick=True):
        yield


@pytest.fixture
def demande(db):
    return DemandeFactory()


@pytest.fixture
def pharmacien_de():
    """The pharmacist of a request's PUI."""

    def fabriquer(demande):
        return UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)

    return fabriquer


@pytest.fixture
def evaluateur(db):
    return UtilisateurFactory(evaluateur=True)
