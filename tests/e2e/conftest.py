"""Browser journeys: Playwright drives Debian's chromium against the live test server."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@pytest.fixture(scope="session")
def _navigateur(request):
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, service_absent

    if not CHROMIUM or not os.path.exists(CHROMIUM):
        service_absent("chromium absent (apt-get install -y chromium) : tests navigateur ignorés")
    with sync_playwright() as p:
        navigateur = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield navigateur
        navigateur.close()


@pytest.fixture
def page(_navigateur, live_server):
    """A fresh browser page; console errors and page errors are collected in page.erreurs_console."""
    contexte = _navigateur.new_context(base_url=live_server.url, locale="fr-FR", accept_downloads=True)
    page = contexte.new_page()
    page.erreurs_console = []
    page.on("console", lambda m: m.type == "error" and page.erreurs_console.append(m.text))
    page.on("pageerror", lambda e: page.erreurs_console.append(str(e)))
    yield page
    contexte.close()
