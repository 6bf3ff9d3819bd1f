"""Issue 7: the API is throttled (DRF, counted in the shared cache): beyond the rate, 429 in French."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

URL = "/api/v1/specialites/"


def test_au_dela_du_debit_anonyme_l_api_repond_429_en_francais(client):
    limite = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"].split("/")[0])
    for _ in range(limite):
        assert client.get(URL).status_code == 200
    reponse = client.get(URL)
    assert reponse.status_code == 429
    assert reponse.json()["detail"].startswith("Requête ralentie. Disponible à nouveau dans ")
    assert int(reponse["Retry-After"]) > 0
