import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_accueil_rendue_avec_l_en_tete_dsfr_sans_erreur_console(page):
    page.goto("/")
    page.wait_for_load_state("networkidle")
    assert page.locator("header.fr-header").is_visible()
    assert "Référentiel AD" in page.locator(".fr-header__service-title").inner_text()
    assert page.locator("footer.fr-footer").count() == 1
    assert page.get_by_role("link", name="Consulter le référentiel").count() == 1
    # The DSFR JavaScript ran (it marks the document) and nothing was blocked by the CSP or failed.
    assert page.evaluate("() => !!window.dsfr")
    assert page.erreurs_console == []
