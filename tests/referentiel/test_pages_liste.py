"""R1, R3: the list page — count, pagination, sorting, shareable URL, htmx fragment, works without JavaScript."""

import re

import pytest

from tests.factories.referentiel import AccesFactory, SpecialiteFactory, indexer_specialites

pytestmark = pytest.mark.django_db


def compact(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def noms_affiches(reponse) -> list[str]:
    return re.findall(r'<a class="fr-link" href="/referentiel/[^/"]+/">([^<]+)</a>', reponse.content.decode())


def creer(n: int, **kwargs):
    for i in range(n):
        AccesFactory(specialite=SpecialiteFactory(nom=f"SPECIALITE {i:03d}", **kwargs))


def test_r1_la_liste_montre_chaque_specialite_du_referentiel_une_fois_avec_ses_statuts(client):
    sp = SpecialiteFactory(nom="IMBRUVICA 140 mg", dci="ibrutinib")
    atu = AccesFactory(specialite=sp, atu_historique=True)
    AccesFactory(specialite=sp, precedent=atu)
    AccesFactory(specialite=SpecialiteFactory(nom="KEYTRUDA", mitm=True), cpc=True)
    SpecialiteFactory(nom="DOLIPRANE")  # no derogatory status: catalogue only (R1)
    reponse = client.get("/referentiel/")
    html = compact(reponse.content.decode())
    assert noms_affiches(reponse) == ["IMBRUVICA 140 mg", "KEYTRUDA"]
    assert '<h2 class="fr-h4 fr-mb-0" id="titre-resultats"> 2 spécialités </h2>' in html
    assert "AAC · en cours" in html and "ATUn (historique) · terminé / arrêté" in html
    assert "CPC · en cours" in html
    assert '<abbr title="Médicament d\'intérêt thérapeutique majeur">MITM</abbr>' in html
    assert "ibrutinib" in html
    assert re.search(r"<title> ?Référentiel des accès dérogatoires — Référentiel AD ?</title>", html)
    assert "<h1>Référentiel des accès dérogatoires</h1>" in html


def test_r3_le_nombre_de_resultats_est_annonce_dans_une_region_live(client):
    creer(3)
    html = compact(client.get("/referentiel/").content.decode())
    assert (
        '<p id="nombre-resultats" class="fr-sr-only" role="status" aria-live="polite" aria-atomic="true">'
        "3 spécialités trouvées. </p>"
    ) in html


def test_pagination_dsfr_de_20_par_page_qui_garde_la_requete(client):
    creer(45)
    reponse = client.get("/referentiel/", {"etat": "en_cours", "page": "2"})
    html = compact(reponse.content.decode())
    assert noms_affiches(reponse) == [f"SPECIALITE {i:03d}" for i in range(20, 40)]
    assert '<nav role="navigation" class="fr-pagination" aria-label="Pagination des résultats">' in html
    assert '<a class="fr-pagination__link" aria-current="page" title="Page 2">2</a>' in html
    assert (
        '<a class="fr-pagination__link fr-pagination__link--next fr-pagination__link--lg-label" '
        'href="?etat=en_cours&amp;page=3" hx-get="?etat=en_cours&amp;page=3">Page suivante</a>'
    ) in html
    assert "45 spécialités trouvées, page 2 sur 3." in html
    # A page beyond the end shows the last one rather than an error.
    assert noms_affiches(client.get("/referentiel/", {"page": "99"}))[0] == "SPECIALITE 040"


def test_tri_par_defaut_nom_sans_recherche_pertinence_avec(client):
    creer(2)
    html = compact(client.get("/referentiel/").content.decode())
    assert (
        '<select class="fr-select" id="tri" name="tri"> <option value="" selected>Nom</option> '
        '<option value="-mis_a_jour_le" >Dernière mise à jour</option> </select>'
    ) in html
    indexer_specialites()
    # The default value is empty: a search typed after it sorts by relevance, even without JavaScript.
    html = compact(client.get("/referentiel/", {"q": "specialite", "tri": ""}).content.decode())
    assert '<option value="" selected>Pertinence</option> <option value="nom" >Nom</option>' in html
    html = compact(client.get("/referentiel/", {"q": "specialite", "tri": "-mis_a_jour_le"}).content.decode())
    assert '<option value="-mis_a_jour_le" selected>Dernière mise à jour</option>' in html


def test_le_formulaire_est_un_get_classique_et_htmx_ne_remplace_que_les_resultats(client):
    html = compact(client.get("/referentiel/").content.decode())
    assert '<form id="form-recherche" method="get" action="/referentiel/" hx-get="/referentiel/"' in html
    assert 'hx-target="#resultats" hx-push-url="true"' in html
    assert '<div class="fr-search-bar fr-search-bar--lg fr-mb-4w" role="search">' in html
    assert '<label class="fr-label" for="recherche-q">' in html
    # No inline script or style (CSP); the page's script is a file with the nonce.
    assert "<script>" not in html and 'style="' not in html
    assert re.search(r'<script src="/static/js/referentiel.js" nonce="[^"]+" defer></script>', html)


def test_une_requete_htmx_recoit_seulement_la_region_des_resultats_et_le_compte_hors_bande(client):
    creer(2)
    indexer_specialites()
    reponse = client.get("/referentiel/", {"q": "specialite"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="resultats")
    html = compact(reponse.content.decode())
    assert "<html" not in html and "<form" not in html
    assert noms_affiches(reponse) == ["SPECIALITE 000", "SPECIALITE 001"]
    assert '<p id="nombre-resultats" hx-swap-oob="innerHTML">2 spécialités trouvées. </p>' in html
    assert "HX-Request" in reponse["Vary"]
    # Restoring history (cache miss) needs the whole page again.
    complet = client.get("/referentiel/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in complet.content.decode()


def test_le_lien_d_export_reprend_la_requete_courante(client):
    html = compact(client.get("/referentiel/", {"q": "lymphome", "type_acces": "AAC", "page": "1"}).content.decode())
    assert '<a class="fr-link fr-link--download" href="/referentiel/export.csv?q=lymphome&amp;type_acces=AAC">' in html


def test_le_menu_principal_mene_au_referentiel_et_le_marque_comme_page_courante(client):
    html = compact(client.get("/referentiel/").content.decode())
    assert '<a class="fr-nav__link" href="/referentiel/" aria-current="page">Référentiel</a>' in html
    assert '<a class="fr-breadcrumb__link" aria-current="page">Référentiel</a>' in html


def test_sans_recherche_le_total_est_compte_a_part_et_une_page_geante_montre_la_derniere(client):
    """Without a search the total is a COUNT of its own (selectors.paginer's `compte`): the page, its total and
    a page number far past the end (beyond PostgreSQL's bigint OFFSET) still agree."""
    creer(45)
    html = compact(client.get("/referentiel/", {"page": "3"}).content.decode())
    assert "45 spécialités trouvées, page 3 sur 3." in html
    reponse = client.get("/referentiel/", {"page": str(10**18)})
    assert reponse.status_code == 200
    assert noms_affiches(reponse)[0] == "SPECIALITE 040"
    assert client.get("/api/v1/specialites/", {"page": str(10**18)}, HTTP_ACCEPT="application/json").status_code == 404


def test_r1_les_lignes_construites_en_python_echappent_chaque_texte(client):
    """The rows of the list are built by views._ligne_html, outside the template engine: a name, a DCI or a
    laboratory holding markup is shown as text, never interpreted."""
    sp = SpecialiteFactory(nom="<script>alert(1)</script> & co", dci="<b>dci</b>", titulaire__nom='Labo "<i>"')
    AccesFactory(specialite=sp)
    html = client.get("/referentiel/").content.decode()
    assert "<script>alert(1)</script>" not in html and "<b>dci</b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "&lt;b&gt;dci&lt;/b&gt;" in html
    assert "Labo &quot;&lt;i&gt;&quot;" in html
