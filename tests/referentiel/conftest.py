import pytest

from referentiel import selectors


@pytest.fixture(autouse=True)
def pages_du_referentiel_hors_cache():
    """Each test starts without the public pages an earlier test cached (selectors.page_en_cache)."""
    selectors.pages_en_cache_oublier()
