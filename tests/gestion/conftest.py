"""Fixtures of the back-office tests: ANSM staff logged in with their second factor, files in a temporary folder."""

import pytest

from tests.conftest import connecter
from tests.factories import UtilisateurFactory


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def evaluateur(db):
    return UtilisateurFactory(evaluateur=True, prenom="Sophie", nom="Leroy")


@pytest.fixture
def client_ansm(client, evaluateur):
    connecter(client, evaluateur)
    return client


def erreur_du_champ(contenu: str, champ: str) -> str:
    """The error text shown under a form field (DSFR: a list tied to the input by aria-describedby), unescaped."""
    import html
    import re

    trouve = re.search(
        rf'<div id="id_{re.escape(champ)}-desc-error">\s*<ul class="errorlist">'
        r'\s*<li class="fr-error-text">\s*(.*?)\s*</li>',
        contenu,
        re.S,
    )
    assert trouve, f"aucune erreur affichée sous le champ {champ}"
    assert f'aria-describedby="id_{champ}-desc-error"' in contenu
    return html.unescape(trouve.group(1))


def erreurs_du_formulaire(contenu: str) -> str:
    """The form-wide errors (the alert at the top of the form), unescaped."""
    import html
    import re

    trouve = re.search(r'<div class="fr-alert fr-alert--error[^"]*"[^>]*>(.*?)</div>', contenu, re.S)
    assert trouve, "aucune erreur de formulaire affichée"
    return html.unescape(re.sub(r"<[^>]+>", " ", trouve.group(1)))


def normaliser(contenu: str) -> str:
    """HTML with its layout whitespace collapsed (templates are formatted by djlint), to compare exact fragments."""
    import re

    return re.sub(r"\s+<", "<", re.sub(r">\s+", ">", " ".join(contenu.split())))
