"""Project system checks (config/checks.py): misconfigurations that would break at runtime have an id."""

import os
import subprocess
import sys
from pathlib import Path

from django.core.checks import registry

from config import checks

RACINE = Path(__file__).resolve().parents[2]


def _ids(resultats) -> list[str]:
    return [resultat.id for resultat in resultats]


def test_les_verifications_sont_enregistrees_et_celles_de_production_reservees_a_deploy():
    ordinaires = registry.registry.get_checks(include_deployment_checks=False)
    toutes = registry.registry.get_checks(include_deployment_checks=True)
    assert checks.verifier_postgresql in ordinaires and checks.verifier_double_facteur in ordinaires
    assert checks.verifier_broker not in ordinaires and checks.verifier_broker in toutes
    assert {checks.verifier_cache, checks.verifier_courriel} <= set(toutes)


def test_config_e001_une_base_autre_que_postgresql_est_refusee(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'base.sqlite3'}"}
    resultat = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"], cwd=RACINE, env=env, capture_output=True, text=True, timeout=120
    )
    assert resultat.returncode == 1
    assert "(config.E001) La base de données doit être PostgreSQL (moteur configuré : django.db.backends.sqlite3)" in (
        resultat.stderr
    )


def test_config_e002_le_second_facteur_doit_etre_impose_et_dans_le_bon_ordre(settings):
    assert checks.verifier_double_facteur() == []
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != checks.MIDDLEWARE_DOUBLE_FACTEUR]
    (erreur,) = checks.verifier_double_facteur()
    assert erreur.id == "config.E002" and erreur.msg == "Le second facteur des agents de l'ANSM n'est pas imposé."
    settings.MIDDLEWARE = [checks.MIDDLEWARE_DOUBLE_FACTEUR, *settings.MIDDLEWARE]
    (erreur,) = checks.verifier_double_facteur()
    assert erreur.id == "config.E002" and "doit venir après django_otp.middleware.OTPMiddleware" in erreur.msg


def test_config_w001_broker_fichier_hors_mode_debug(settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.DEBUG = True
    assert checks.verifier_broker() == []
    settings.DEBUG = False
    assert _ids(checks.verifier_broker()) == ["config.W001"]
    settings.CELERY_BROKER_URL = "redis://redis.interne:6379/0"
    assert checks.verifier_broker() == []


def test_config_w002_cache_local_hors_mode_debug(settings):
    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert _ids(checks.verifier_cache()) == ["config.W002"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://r"}}
    assert checks.verifier_cache() == []


def test_config_w003_courriels_non_envoyes_hors_mode_debug(settings):
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    (avertissement,) = checks.verifier_courriel()
    assert avertissement.id == "config.W003"
    assert "Les courriels ne sont pas envoyés (EMAIL_BACKEND = django.core.mail.backends.console" in avertissement.msg
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert checks.verifier_courriel() == []
