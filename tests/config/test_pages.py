import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_accueil_dsfr_explique_le_service_et_donne_les_liens(client):
    reponse = client.get("/")
    html = reponse.content.decode()
    assert reponse.status_code == 200
    assert 'class="fr-header"' in html and 'class="fr-footer"' in html
    assert "fr-skiplinks" in html
    assert "Référentiel AD" in html
    assert "Consulter le référentiel" in html and "Espace demandes d'AAC" in html and "Espace ANSM" in html
    assert '<html lang="fr"' in html


@pytest.mark.parametrize(
    "nom",
    [
        "footer-accessibility-status",
        "footer-legal-notice",
        "footer-personal-data",
        "footer-cookie-management",
        "footer-sitemap",
    ],
)
def test_les_pages_du_pied_de_page_existent(client, nom):
    reponse = client.get(reverse(nom))
    assert reponse.status_code == 200
    assert "<h1>" in reponse.content.decode()


def test_page_404_dans_le_systeme_de_design(client, settings):
    settings.DEBUG = False
    reponse = client.get("/nexiste-pas/")
    assert reponse.status_code == 404
    html = reponse.content.decode()
    assert "Page non trouvée" in html and 'class="fr-header"' in html


def test_page_500_dans_le_systeme_de_design(rf):
    from config.views import erreur_500

    reponse = erreur_500(rf.get("/"))
    assert reponse.status_code == 500
    assert "Erreur inattendue" in reponse.content.decode()


def test_page_403_dans_le_systeme_de_design(rf):
    from django.contrib.auth.models import AnonymousUser

    from config.views import erreur_403

    requete = rf.get("/")
    requete.user = AnonymousUser()
    reponse = erreur_403(requete)
    assert reponse.status_code == 403
    assert "Accès refusé" in reponse.content.decode()


def test_en_tetes_de_securite_et_csp_sans_script_inline(client):
    reponse = client.get("/")
    csp = reponse.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "unsafe-inline" not in csp
    assert reponse.headers["X-Frame-Options"] == "DENY"
    assert reponse.headers["X-Content-Type-Options"] == "nosniff"


def test_locale_francaise_et_fuseau_de_paris(settings):
    assert settings.LANGUAGE_CODE == "fr"
    assert settings.TIME_ZONE == "Europe/Paris"
