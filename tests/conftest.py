"""Shared fixtures: services a newcomer may lack skip with a reason, but never in CI (CI=true)."""

import os
import shutil
import socket
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from config.celery import app as celery_app

EN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def service_absent(raison: str) -> None:
    """Skip on a newcomer's machine; fail in CI, where every service must be there."""
    if EN_CI:
        pytest.fail(f"Service requis absent en CI : {raison}")
    pytest.skip(raison)


@pytest.fixture(autouse=True)
def _celery_eager(settings):
    """Outside the worker tests, tasks run inline so their effect is visible in the test's transaction."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _cache_vide():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def connecter(client, utilisateur):
    """Log `utilisateur` in on a test client (Django's Client or DRF's APIClient), second factor included.

    ANSM staff (évaluateurs, administrateurs, and any account with is_staff) must have passed a TOTP check or every
    page redirects them to the verification page (comptes.middleware): for them a confirmed device is created if
    needed and recorded as verified in the session, which is what `django_otp.login` does after a correct code.
    """
    client.force_login(utilisateur)
    if utilisateur.second_facteur_requis:
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        appareil = TOTPDevice.objects.filter(user=utilisateur, confirmed=True).first()
        if appareil is None:
            appareil = TOTPDevice.objects.create(user=utilisateur, name="Application de test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = appareil.persistent_id
        session.save()
    return utilisateur


def code_totp(appareil) -> str:
    """The code an authenticator app shows now for this TOTP device (what a staff user types)."""
    from django_otp.oath import totp

    code = totp(appareil.bin_key, step=appareil.step, t0=appareil.t0, digits=appareil.digits, drift=appareil.drift)
    return f"{code:0{appareil.digits}d}"


@pytest.fixture
def redis_url():
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            if not conn.recv(16).startswith(b"+PONG"):
                raise OSError("pas de réponse PONG")
    except OSError as exc:
        service_absent(f"Redis injoignable à {REDIS_URL} ({exc})")
    return REDIS_URL


def url_base_de_test() -> str:
    """A DATABASE_URL pointing at the test database of this (xdist) process, for subprocesses."""
    from django.conf import settings
    from django.db import connection

    # Same server, user and options (the embedded server's socket is in the query string); test database name.
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + quote(connection.settings_dict["NAME"])))


@pytest.fixture
def chromium_path():
    if not CHROMIUM or not os.path.exists(CHROMIUM):
        service_absent("chromium absent (apt-get install -y chromium) : tests navigateur ignorés")
    return CHROMIUM


def pytest_terminal_summary(terminalreporter):
    """Figures recorded by tests with `record_property("mesure", "…")`, shown at the end of the run.

    Through the report's user properties, so that those of xdist workers, which print nowhere, reach the summary.
    """
    mesures = [
        valeur
        for rapport in terminalreporter.getreports("passed")
        for nom, valeur in rapport.user_properties
        if nom == "mesure"
    ]
    if mesures:
        terminalreporter.section("Mesures")
        for mesure in mesures:
            terminalreporter.write_line(mesure)
