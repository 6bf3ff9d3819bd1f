"""R1, R3: the list page reads the exact query of a shape of filters through SQL compiled once per process
(filters._page_compilee, the search text put in by position). Its pages must be exactly those the ORM builds for
the same query, whatever the filters, the sort, the search and the page."""

import itertools

import pytest
from django.http import QueryDict

from referentiel import filters, selectors
from referentiel.enums import AireTherapeutique
from tests.factories.referentiel import AccesFactory, PUTFactory, SpecialiteFactory, indexer_specialites

pytestmark = pytest.mark.django_db

AIRES = [AireTherapeutique.ONCOLOGIE, AireTherapeutique.NEUROLOGIE, ""]


@pytest.fixture
def referentiel():
    """45 fiches of every type and state (a CPC draft among them, which is not public), three therapeutic areas,
    MITM or not, a PUT with nominative collection for some, two DCIs for the searches, same names for the ties."""
    traits = [{}, {"aap": True}, {"cpc": True}, {"cpc_projet": True}, {"termine": True}, {"suspendu": True}]
    for i in range(45):
        sp = SpecialiteFactory(
            nom=f"SPECIALITE {i % 15:02d}",
            slug=f"specialite-{i:02d}",
            dci="ibrutinib" if i % 3 else "nivolumab",
            aire_therapeutique=AIRES[i % 3],
            mitm=i % 4 == 0,
        )
        acces = AccesFactory(specialite=sp, **traits[i % len(traits)])
        if i % 5 == 0:
            AccesFactory(specialite=sp, atu_historique=True)
        if i % 7 == 0:
            PUTFactory(acces=acces, recueil_nominatif=True)
    # A fiche whose name holds the words of the marker that stands for the search text during compilation.
    AccesFactory(specialite=SpecialiteFactory(nom="TEXTE-DE-LA-RECHERCHE-A-VENIR 10 mg", slug="marqueur"))
    indexer_specialites()


def par_l_orm(filtres, numero):
    # Another function than selectors.specialites_lignes_page: page_du_referentiel then builds the page with the ORM.
    return filters.page_du_referentiel(
        filtres, numero=numero, par_page=4, lignes=lambda qs: selectors.specialites_lignes_page(qs)
    )


def compilee(filtres, numero):
    return filters.page_du_referentiel(filtres, numero=numero, par_page=4, lignes=selectors.specialites_lignes_page)


def contenu(page) -> tuple:
    return page.paginator.count, page.number, [ligne for ligne in page.object_list]


REQUETES = [
    dict(zip(("q", "type_acces", "etat", "tri", "mitm"), valeurs, strict=True))
    for valeurs in itertools.product(
        ["", "ibrutinib", "nivolumab lymphome", "specialite"],
        [[], ["AAC"], ["CPC"], ["AAP", "CPC"]],
        [[], ["en_cours"], ["termine", "suspendu"]],
        ["", "nom", "-mis_a_jour_le"],
        ["", "false"],
    )
]


@pytest.mark.parametrize("numero", [1, 3])
def test_r3_la_page_compilee_est_celle_de_l_orm_pour_chaque_forme_de_requete(referentiel, numero):
    compilees = non_vides = 0
    for donnees in REQUETES:
        requete = QueryDict(mutable=True)
        for champ, valeur in donnees.items():
            requete.setlist(champ, valeur if isinstance(valeur, list) else [valeur] if valeur else [])
        attendue = par_l_orm(filters.filtres_du_referentiel(requete), numero)
        obtenue = compilee(filters.filtres_du_referentiel(requete), numero)
        assert contenu(obtenue[1]) == contenu(attendue[1]), donnees
        assert obtenue[0].recherche == attendue[0].recherche, donnees
        non_vides += bool(attendue[1].object_list)
        compilees += (
            filters._page_compilee(
                filters.filtres_du_referentiel(requete), (donnees["q"] or "").strip(), numero=numero, par_page=4
            )
            is not None
        )
    # The compiled way is the one taken (pages past the end, and so most third pages, aside), on pages that have rows.
    assert compilees > (len(REQUETES) // 2 if numero == 1 else 10)
    assert non_vides > (len(REQUETES) // 2 if numero == 1 else 10)


def test_r3_aire_et_recueil_nominatif_passent_aussi_par_la_page_compilee(referentiel):
    for aire, recueil in itertools.product(AIRES, ["", "true", "false"]):
        requete = QueryDict(mutable=True)
        requete.update({"aire_therapeutique": aire, "recueil_nominatif": recueil, "type_acces": "AAC"})
        assert filters._page_compilee(filters.filtres_du_referentiel(requete), "", numero=1, par_page=4) is not None
        assert contenu(compilee(filters.filtres_du_referentiel(requete), 1)[1]) == contenu(
            par_l_orm(filters.filtres_du_referentiel(requete), 1)[1]
        )


def test_r3_un_texte_egal_au_marqueur_est_cherche_comme_un_autre(referentiel):
    """The marker that stands for the text during the compilation is a text a visitor may type: it is searched."""
    requete = QueryDict(mutable=True)
    requete["q"] = filters._TEXTE_A_VENIR
    assert (
        filters._page_compilee(filters.filtres_du_referentiel(requete), requete["q"], numero=1, par_page=4) is not None
    )
    page = compilee(filters.filtres_du_referentiel(requete), 1)[1]
    assert [ligne["nom"] for ligne in page.object_list] == ["TEXTE-DE-LA-RECHERCHE-A-VENIR 10 mg"]
    assert contenu(page) == contenu(par_l_orm(filters.filtres_du_referentiel(requete), 1)[1])


def test_r3_les_filtres_aux_valeurs_ouvertes_et_les_pages_au_dela_de_la_fin_restent_a_l_orm(referentiel):
    labo = selectors.laboratoires_references()[0][0]
    for donnees in ({"laboratoire": str(labo)}, {"substance": "ibru"}, {"mis_a_jour_depuis": "2020-01-01"}):
        requete = QueryDict(mutable=True)
        requete.update(donnees)
        assert filters._page_compilee(filters.filtres_du_referentiel(requete), "", numero=1, par_page=4) is None
    assert filters._page_compilee(filters.filtres_du_referentiel(QueryDict()), "", numero=99, par_page=4) is None
    # ... and the page they get is the ORM's: the last one.
    assert compilee(filters.filtres_du_referentiel(QueryDict()), 99)[1].number == 10


def test_r3_chaque_filtre_est_classe_ouvert_ou_ferme():
    """A filter added to the FilterSet must be classed: with few values (part of the compiled shape) or open (left to
    the ORM). Until it is, a request using it takes the ORM's way (filters._page_compilee)."""
    assert set(filters.SpecialiteFilterSet.base_filters) == (
        filters._CHAMPS_OUVERTS | set(filters._CHAMPS_FERMES) | {"q"}
    )
    assert not filters._CHAMPS_OUVERTS & set(filters._CHAMPS_FERMES)
