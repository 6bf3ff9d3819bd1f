import os
import subprocess
import sys
from pathlib import Path

RACINE = Path(__file__).resolve().parents[2]


# What a production environment sets (README, « Production »): the check must then be silent.
ENV_PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "p" * 20 + "rod-secret-key-for-the-check-only-0123456789abcdefXYZ",
    "ALLOWED_HOSTS": "referentiel-ad.example",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
}


def _environnement(**extra) -> dict:
    # The e2e conftest sets DJANGO_ALLOW_ASYNC_UNSAFE in this process; a production server never has it.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return env | ENV_PRODUCTION | extra


def test_check_deploy_sans_avertissement_avec_les_reglages_de_production():
    env = _environnement()
    resultat = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=RACINE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resultat.returncode == 0, resultat.stdout + resultat.stderr
    assert "no issues" in resultat.stdout


def test_en_production_sans_secret_key_le_demarrage_echoue_clairement():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | {"DEBUG": "false"}
    resultat = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"], cwd=RACINE, env=env, capture_output=True, text=True, timeout=120
    )
    assert resultat.returncode != 0
    assert "SECRET_KEY" in resultat.stderr


def test_une_variable_mal_formee_nomme_la_variable():
    env = {**os.environ, "AXES_FAILURE_LIMIT": "cinq"}
    resultat = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"], cwd=RACINE, env=env, capture_output=True, text=True, timeout=120
    )
    assert resultat.returncode != 0
    assert "AXES_FAILURE_LIMIT doit être un entier" in resultat.stderr


def test_check_deploy_signale_le_broker_fichier_et_le_cache_local_en_production():
    env = _environnement(CELERY_BROKER_URL="filesystem://")
    env.pop("CACHE_URL")
    resultat = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=RACINE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resultat.returncode == 1
    assert "(config.W001) Celery utilise le transport « système de fichiers »" in resultat.stderr
    assert "(config.W002) Le cache est local à chaque processus" in resultat.stderr
