"""Fixtures of the ANSM review tests: ANSM staff logged in with their second factor, files in a temporary folder,
and helpers to read pages and decision PDFs."""

import io
import re

import pytest
from pypdf import PdfReader

from tests.conftest import connecter
from tests.factories import UtilisateurFactory


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "https://referentiel-ad.example"


@pytest.fixture
def evaluateur(db):
    return UtilisateurFactory(evaluateur=True, prenom="Sophie", nom="Leroy", email="sophie.leroy@ansm.example")


@pytest.fixture
def client_ansm(client, evaluateur):
    connecter(client, evaluateur)
    return client


def html(reponse) -> str:
    """A page's HTML with the layout whitespace collapsed (templates are formatted by djlint)."""
    contenu = reponse.content.decode()
    return re.sub(r"\s+<", "<", re.sub(r">\s+", ">", " ".join(contenu.split())))


def sans_inline(page: str) -> None:
    """CSP: no inline script or style attribute in our pages."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert ' style="' not in page


def texte_pdf(contenu: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(contenu)).pages)


def texte_decision(decision) -> str:
    decision.fichier.open("rb")
    try:
        return texte_pdf(decision.fichier.read())
    finally:
        decision.fichier.close()
