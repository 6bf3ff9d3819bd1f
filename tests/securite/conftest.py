"""Fixtures of the security tests: uploaded files and decision PDFs go to a temporary MEDIA_ROOT."""

import pytest


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Many users per run: a fast hasher (passwords are not what these tests are about).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
