"""Who may open the ANSM back-office: évaluateurs and administrators; anyone else gets a 403, anonymous users the
login page. Services refuse other roles too, whatever the page."""

import pytest

from referentiel import services
from referentiel.exceptions import ReferentielError
from tests.conftest import connecter
from tests.factories import AccesFactory, UtilisateurFactory
from tests.factories.gestion import CPCFactory, LaboratoireUtilisateurFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/ansm/",
    "/ansm/referentiel/",
    "/ansm/referentiel/nouvelle/",
    "/ansm/referentiel/rapports/",
    "/ansm/referentiel/cpc/",
    "/ansm/referentiel/signalements/",
    "/ansm/referentiel/engagements-aap/",
    "/ansm/referentiel/laboratoires/",
]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitor_is_sent_to_the_login_page(client, url):
    reponse = client.get(url)
    assert reponse.status_code == 302
    assert reponse["Location"] == f"/comptes/connexion/?next={url}"


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("trait", ["prescripteur", "pharmacien", "laboratoire_role"])
def test_other_roles_get_a_403_on_every_back_office_page(client, url, trait):
    connecter(client, UtilisateurFactory(**{trait: True}))
    reponse = client.get(url)
    assert reponse.status_code == 403
    assert "<h1>Accès refusé</h1>" in reponse.content.decode()


@pytest.mark.parametrize("trait", ["evaluateur", "administrateur"])
def test_evaluateurs_and_administrators_open_the_dashboard(client, trait):
    connecter(client, UtilisateurFactory(**{trait: True}))
    reponse = client.get("/ansm/")
    assert reponse.status_code == 200
    contenu = reponse.content.decode()
    assert "<h1>Espace ANSM</h1>" in contenu
    assert 'href="/ansm/referentiel/"' in contenu


def test_a_laboratory_cannot_post_a_back_office_action(client):
    acces = AccesFactory()
    connecter(client, LaboratoireUtilisateurFactory(laboratoire=acces.specialite.titulaire))
    reponse = client.post(f"/ansm/referentiel/statuts/{acces.pk}/amm/", {"date_amm": "2026-01-10"})
    assert reponse.status_code == 403
    acces.specialite.refresh_from_db()
    assert acces.specialite.date_amm is None


def test_the_cpc_services_refuse_anyone_but_the_ansm():
    cpc = CPCFactory()
    laboratoire = LaboratoireUtilisateurFactory(laboratoire=cpc.specialite.titulaire)
    with pytest.raises(ReferentielError, match="Seuls les évaluateurs de l'ANSM"):
        services.cpc_terminer(acces=cpc, par=laboratoire)
