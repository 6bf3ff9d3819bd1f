"""Fixtures of the deadline tests: a frozen clock, outbox helpers, files in a temporary folder, and the real Celery
worker of tests/config (private Redis queue, the test database)."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from comptes.models import Notification
from tests.config.conftest import demarrer_worker  # noqa: F401 - the real worker fixture, reused as is

PARIS = timezone.get_fixed_timezone(120)  # summer time: the scans run in the early morning, Paris time


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "https://referentiel-ad.example"


def le(jour: datetime.date, heure: int = 6):
    """Freeze the clock on that day at `heure` (Paris), as the scheduler would run the scan."""
    return time_machine.travel(datetime.datetime.combine(jour, datetime.time(heure), tzinfo=PARIS), tick=False)


def rappels(prefixe: str) -> dict[str, Notification]:
    """The outbox rows whose key starts with `prefixe`, by recipient (one per recipient, or the test fails)."""
    lignes = list(Notification.objects.filter(cle__startswith=prefixe).order_by("destinataire"))
    par_destinataire = {n.destinataire: n for n in lignes}
    assert len(par_destinataire) == len(lignes), [n.cle for n in lignes]
    return par_destinataire
