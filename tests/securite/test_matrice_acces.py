"""Access control proven route by route (issue 7): every route of the portal and of the API x every role x the
role's own object and someone else's, as declared in tests/securite/matrice.py. Whatever is refused is a 404
(objects) or a 403 (pages), or the login page for an anonymous visitor, and never shows the object's data.

The objects are built once per module (and per xdist worker) inside a transaction rolled back at the end; each case
runs in a savepoint of it, so a POST that an allowed role sends leaves nothing behind for the next case.
"""

import pytest
from django.urls import include, path, reverse

from config.views import accueil
from tests.conftest import connecter
from tests.securite.matrice import (
    AUTRUI,
    CONNEXION,
    INTERDIT,
    INTROUVABLE,
    MASQUE,
    MATRICE,
    OK,
    ROLES,
    A,
    Cible,
    resume,
    routes_du_portail,
    taille,
)
from tests.securite.matrice_monde import monde_partage

pytestmark = pytest.mark.django_db

ROUTES = routes_du_portail()
CAS = [(nom, role, cas) for nom in sorted(MATRICE) if nom in ROUTES for role in ROLES for cas in MATRICE[nom].cas]


@pytest.fixture(scope="module")
def monde(django_db_setup, django_db_blocker, tmp_path_factory):
    with monde_partage(django_db_blocker, tmp_path_factory.mktemp("media-matrice")) as monde:
        yield monde


@pytest.fixture(autouse=True)
def _media():
    """Replaces tests/securite/conftest.py's: the world's files stay in the module's MEDIA_ROOT (see `monde`)."""


# --- Checking one response ----------------------------------------------------------------------------------------


def _appeler(client, methode: str, url: str):
    if methode == "get":
        return client.get(url)
    if methode == "post":
        return client.post(url)  # empty body: a refusal must come before any validation
    return client.generic(methode.upper(), url, b"", content_type="application/json")


def _corps(reponse) -> str:
    if getattr(reponse, "streaming", False):
        # Reading it to the end closes it (the test client's wrapper); closing it again would send a second
        # request_finished, whose handler drops the connection that holds the world's transaction.
        return b"".join(reponse.streaming_content).decode("utf-8", "replace")
    return reponse.content.decode("utf-8", "replace")


def _verifier(reponse, attendu: A, methode: str, cible: Cible) -> None:
    code, lieu, corps = reponse.status_code, reponse.get("Location", ""), _corps(reponse)
    vers_connexion = lieu.startswith(reverse("comptes:connexion"))
    vers_double_facteur = lieu.startswith("/comptes/double-facteur/")
    apercu = f"{methode.upper()} -> {code} {lieu} {corps[:300]!r}"
    if attendu is CONNEXION:
        assert code == 302 and vers_connexion, apercu
    elif attendu is INTERDIT:
        assert code == 403, apercu
    elif attendu is INTROUVABLE:
        assert code == 404, apercu
    else:
        admis = 200 <= code < 400 or (methode != "get" and code in (400, 409))
        assert admis and not vers_connexion and not vers_double_facteur, apercu
    if cible.secret and attendu is not OK:
        assert cible.secret not in corps, f"{cible.secret!r} visible : {apercu}"
    lisible = reponse.get("Content-Type", "").startswith(("text/html", "application/json"))
    if cible.secret and attendu is OK and methode == "get" and code == 200 and lisible:
        assert cible.secret in corps, f"{cible.secret!r} absent : {apercu}"


@pytest.mark.parametrize(("nom", "role", "cas"), CAS, ids=[f"{n}|{r}|{c}" for n, r, c in CAS])
def test_chaque_route_repond_a_chaque_role_comme_la_matrice_le_declare(client, monde, nom, role, cas):
    entree = MATRICE[nom]
    cible = entree.cible(monde, role, cas) if entree.cible else Cible({})
    url = reverse(nom, kwargs=cible.kwargs)
    if role != "anonyme":
        connecter(client, monde.utilisateurs[role])
    for methode in entree.methodes:
        attendu = entree.attendu(methode, role, cas)
        _verifier(_appeler(client, methode, url), attendu, methode, cible)


# --- The matrix follows the URLconf ------------------------------------------------------------------------------


def test_chaque_route_du_portail_a_une_entree_dans_la_matrice(capsys):
    manquantes = {nom: ROUTES[nom].motif for nom in ROUTES if nom not in MATRICE}
    assert not manquantes, (
        "Routes sans entrée dans tests/securite/matrice.py (décidez qui peut les utiliser) : " + repr(manquantes)
    )
    t = taille()
    assert t["cas"] == len(CAS)
    with capsys.disabled():
        print(f"\n{resume()}")


# A URLconf with one more route, to show that the matrix notices it.
urlpatterns = [path("route-sans-entree/", accueil, name="route_sans_entree"), path("", include("config.urls"))]


def test_une_route_ajoutee_sans_entree_dans_la_matrice_est_signalee(settings):
    settings.ROOT_URLCONF = __name__

    assert set(routes_du_portail()) - set(MATRICE) == {"route_sans_entree"}


def test_chaque_entree_de_la_matrice_designe_une_route_existante():
    assert not set(MATRICE) - set(ROUTES), "Entrées de la matrice sans route : " + repr(set(MATRICE) - set(ROUTES))


def test_les_methodes_declarees_pour_l_api_sont_celles_qu_elle_accepte():
    ecarts = {
        nom: (MATRICE[nom].methodes, route.methodes_api)
        for nom, route in ROUTES.items()
        if route.methodes_api is not None and nom in MATRICE and set(MATRICE[nom].methodes) != set(route.methodes_api)
    }
    assert not ecarts, ecarts


def test_chaque_role_et_chaque_objet_d_autrui_est_essaye():
    """The matrix is not vacuous: every role is refused somewhere, and every object route has a refused case."""
    refus = {(nom, role) for nom, role, cas in CAS if MATRICE[nom].attendu(MATRICE[nom].methodes[0], role, cas) != OK}
    assert {role for _, role in refus} == set(ROLES)
    for nom, entree in MATRICE.items():
        if AUTRUI in entree.cas:
            assert any(
                entree.attendu(m, r, AUTRUI) in (INTROUVABLE, INTERDIT, MASQUE, CONNEXION)
                for m in entree.methodes
                for r in ROLES
            ), nom


# --- The technical admin: its own guard (staff + second factor) --------------------------------------------------


def test_l_administration_technique_exige_un_compte_staff_et_son_second_facteur(client, monde):
    url = reverse("admin:index")
    assert client.get(url).url.startswith(reverse("admin:login"))
    for role in ("prescripteur", "pharmacien", "evaluateur", "laboratoire"):
        connecter(client, monde.utilisateurs[role])
        reponse = client.get(url)
        assert reponse.status_code == 302 and reponse.url.startswith(reverse("admin:login")), role
        client.logout()
    administrateur = monde.utilisateurs["administrateur"]
    # A password alone (no verified second factor) does not open it...
    client.force_login(administrateur)
    reponse = client.get(url)
    assert reponse.status_code == 302 and reponse.url.startswith("/comptes/double-facteur/"), reponse.url
    # ...the second factor does.
    connecter(client, administrateur)
    reponse = client.get(url)
    assert reponse.status_code == 200 and "Administration" in reponse.content.decode()
