"""The référentiel's search and filters: ONE FilterSet read by the list page, its CSV export and the API (R3)."""

import copy
import functools
from dataclasses import dataclass

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage
from django.db.models import Count, Window
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from . import selectors
from .enums import AireTherapeutique, EtatAcces, TypeAcces
from .models import AccesDerogatoire, Indication, Laboratoire, Specialite

TRIS = [
    ("pertinence", "Pertinence"),
    ("nom", "Nom"),
    ("-mis_a_jour_le", "Dernière mise à jour"),
]


class ChampOuiNon(forms.NullBooleanField):
    """A yes/no filter that rejects anything else instead of silently ignoring it (API clients need to know)."""

    widget = forms.TextInput  # NullBooleanSelect would turn an unknown value into None before validation
    VRAI = {"true", "1", "on", "oui"}
    FAUX = {"false", "0", "non"}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        texte = str(value).strip().lower()
        if texte in self.VRAI:
            return True
        if texte in self.FAUX:
            return False
        raise ValidationError("Valeur attendue : « true » ou « false ».", code="invalid")

    def validate(self, value):
        pass


class _CopieLegere:
    """A filter that a FilterSet copies cheaply. django-filter deep-copies every filter of the class for each
    FilterSet (so on every list page and API list), with their choices, querysets and help texts: most of the cost of
    a FilterSet. A filter is configuration that a FilterSet only reads, save `model` and `parent`, which it sets on
    its own copy: a shallow copy is enough, its `method` bound to the copy and not to the class's filter."""

    def __deepcopy__(self, memo):
        copie = copy.copy(self)
        memo[id(self)] = copie
        if self.method is not None:
            copie.method = self.method  # a FilterMethod of the copy (it looks the method up on the copy's parent)
        return copie


class FiltreTexte(_CopieLegere, django_filters.CharFilter):
    pass


class FiltreChoixMultiples(_CopieLegere, django_filters.MultipleChoiceFilter):
    pass


class FiltreChoix(_CopieLegere, django_filters.ChoiceFilter):
    pass


class FiltreModele(_CopieLegere, django_filters.ModelChoiceFilter):
    pass


class FiltreDate(_CopieLegere, django_filters.DateFilter):
    pass


class FiltreOuiNon(_CopieLegere, django_filters.BooleanFilter):
    field_class = ChampOuiNon


class SpecialiteFilterSet(django_filters.FilterSet):
    q = FiltreTexte(
        label="Rechercher un médicament",
        method="filtrer_recherche",
        max_length=200,
        help_text="Nom, DCI, indication ou laboratoire ; accents et pluriels indifférents.",
    )
    type_acces = FiltreChoixMultiples(label="Type d'accès", choices=TypeAcces.choices, method="filtrer_rien")
    etat = FiltreChoixMultiples(label="État", choices=EtatAcces.choices, method="filtrer_rien")
    aire_therapeutique = FiltreChoix(label="Aire thérapeutique", choices=AireTherapeutique.choices)
    laboratoire = extend_schema_field(OpenApiTypes.INT)(
        FiltreModele(
            label="Laboratoire",
            queryset=Laboratoire.objects.all(),
            method="filtrer_laboratoire",
            help_text="Identifiant du laboratoire, titulaire ou exploitant.",
        )
    )
    substance = FiltreTexte(
        label="Substance (DCI)", method="filtrer_substance", max_length=100, help_text="Par exemple : ibrutinib."
    )
    mitm = FiltreOuiNon(label="Médicament d'intérêt thérapeutique majeur (MITM)")
    recueil_nominatif = FiltreOuiNon(label="Avec un PUT à recueil nominatif de données", method="filtrer_recueil")
    mis_a_jour_depuis = FiltreDate(
        label="Mis à jour depuis le", method="filtrer_mis_a_jour", help_text="Format : AAAA-MM-JJ."
    )
    tri = FiltreChoix(
        label="Trier par",
        choices=TRIS,
        method="filtrer_rien",
        empty_label=None,
        help_text="Par défaut (vide) : pertinence quand une recherche est saisie, sinon nom.",
    )

    class Meta:
        model = Specialite
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, recherche: str | None = None, **kwargs):
        # Always bound (filter_queryset, which applies R1, only runs then); by default on the published fiches.
        # `recherche`: see selectors.specialites_rechercher's mode (page_du_referentiel sets it).
        self.recherche = recherche
        super().__init__(
            data if data is not None else {},
            queryset if queryset is not None else selectors.specialites_candidates(),
            **kwargs,
        )

    def get_form_class(self):
        return _classe_formulaire(type(self))

    def filtrer_recherche(self, queryset, name, value):
        return selectors.specialites_rechercher(queryset, texte=value, mode=self.recherche)

    def filtrer_laboratoire(self, queryset, name, value):
        return selectors.specialites_filtrer_laboratoire(queryset, laboratoire=value)

    def filtrer_substance(self, queryset, name, value):
        return selectors.specialites_filtrer_substance(queryset, dci=value)

    def filtrer_recueil(self, queryset, name, value):
        return selectors.specialites_filtrer_recueil(queryset, avec=value)

    def filtrer_mis_a_jour(self, queryset, name, value):
        return selectors.specialites_filtrer_mises_a_jour_depuis(queryset, depuis=value)

    def filtrer_rien(self, queryset, name, value):
        return queryset  # applied in filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        donnees = self.form.cleaned_data
        # R1 (at least one public status) and the type and state filters, on the same status: "AAC en cours" is
        # not "an AAC, and something en cours".
        queryset = selectors.specialites_filtrer_acces(
            queryset, types=donnees.get("type_acces") or None, etats=donnees.get("etat") or None
        )
        # Last, once the search annotated its relevance.
        return selectors.specialites_trier(queryset, tri=donnees.get("tri"))


class AccesFilterSet(django_filters.FilterSet):
    type_acces = django_filters.MultipleChoiceFilter(label="Type d'accès", choices=TypeAcces.choices)
    etat = django_filters.MultipleChoiceFilter(label="État", choices=EtatAcces.choices)
    specialite = django_filters.NumberFilter(label="Identifiant de la spécialité", field_name="specialite_id")

    class Meta:
        model = AccesDerogatoire
        fields: list[str] = []


class IndicationFilterSet(django_filters.FilterSet):
    type_acces = django_filters.MultipleChoiceFilter(
        label="Type d'accès", choices=TypeAcces.choices, field_name="acces__type_acces"
    )
    etat = django_filters.MultipleChoiceFilter(label="État", choices=EtatAcces.choices, field_name="acces__etat")
    specialite = django_filters.NumberFilter(label="Identifiant de la spécialité", field_name="acces__specialite_id")
    maladie_rare = FiltreOuiNon(label="Maladie rare")

    class Meta:
        model = Indication
        fields: list[str] = []


@functools.cache
def _classe_formulaire(classe: type[django_filters.FilterSet]) -> type[forms.Form]:
    """The form class of a FilterSet class, built once: django-filter builds it (a class and a field per filter) for
    each FilterSet, that is on every list page and API list, while it depends only on the class's filters. Each
    form still gets its own copy of the fields (Form.__init__ copies them)."""
    # Copies: a filter keeps the field it builds, and the class's filters are copied for each FilterSet.
    filtres = copy.deepcopy(classe.base_filters)
    for filtre in filtres.values():
        filtre.model = classe._meta.model
    champs = {nom: filtre.field for nom, filtre in filtres.items()}
    formulaire = type(f"{classe.__name__}Form", (classe._meta.form,), champs)
    formulaire.base_fields = _ChampsCopieLegere(formulaire.base_fields)
    return formulaire


def _copie_champ(champ: forms.Field) -> forms.Field:
    """What Form.__init__'s deepcopy of a field does (its own widget, error messages and validators; a new queryset
    for a ModelChoiceField), except that the choices of a ChoiceField are shared: they are constants here, that
    nothing changes in place (assigning field.choices replaces them)."""
    copie = copy.copy(champ)
    copie.widget = copy.copy(champ.widget)
    copie.widget.attrs = champ.widget.attrs.copy()
    copie.error_messages = champ.error_messages.copy()
    copie.validators = champ.validators[:]
    if isinstance(champ, forms.ModelChoiceField) and champ.queryset is not None:
        copie.queryset = champ.queryset.all()
    return copie


class _ChampsCopieLegere(dict):
    """The base_fields of the FilterSets' forms: each form gets its own copy of every field (_copie_champ), built
    several times faster than by deepcopy, which copies every choice of every list."""

    def __deepcopy__(self, memo):
        return {nom: _copie_champ(champ) for nom, champ in self.items()}


def filtres_du_referentiel(donnees) -> SpecialiteFilterSet:
    """The FilterSet of a query of the list page or the API list, validated, its search first taken as exact (see
    page_du_referentiel). An invalid field is left out of the filtering: the page shows its error, the API answers
    400."""
    filtres = SpecialiteFilterSet(donnees, recherche=selectors.RECHERCHE_EXACTE)
    filtres.is_valid()
    return filtres


def page_du_referentiel(
    filtres: SpecialiteFilterSet,
    *,
    numero: int,
    par_page: int,
    version=None,
    strict=False,
    lignes=selectors.specialites_lignes,
):
    """(FilterSet, page of lignes(queryset): selectors.specialites_lignes, or the list page's lighter
    specialites_lignes_page) for the query of filtres_du_referentiel, in ONE query in the usual case.

    R3's order stays: the exact full-text search, and the approximate one only when the exact one matches nothing
    in the whole référentiel. But instead of asking that first (one more query on every search), the exact page is
    read first: rows prove that the exact search matches; only an empty page needs the question.
    """

    texte = (filtres.form.cleaned_data.get("q") or "").strip()

    def lire(filtres):
        return selectors.paginer(
            lignes(filtres.qs),
            numero=numero,
            par_page=par_page,
            version=version,
            strict=strict,
            # Without a search, the page follows an index and the count is a query of its own (see paginer).
            compte=None if texte else filtres.qs,
        )

    page = None
    if lignes is selectors.specialites_lignes_page and version is None and not strict:
        page = _page_compilee(filtres, texte, numero=numero, par_page=par_page)
    if page is None:
        try:
            page = lire(filtres)
        except EmptyPage:  # past the last page (strict): only a search without exact match may still have rows
            if not texte or selectors.recherche_exacte_trouve(texte):
                raise
            page = None
    if (page is None or not page.paginator.count) and texte and not selectors.recherche_exacte_trouve(texte):
        filtres = SpecialiteFilterSet(filtres.data, recherche=selectors.RECHERCHE_APPROCHEE)
        page = lire(filtres)
    return filtres, page


# --- The list page's exact query, compiled once per shape -----------------------------------------------------
# Building the page's queryset (the FilterSet's filters, the rows, the total) and compiling it cost as much as
# running it. For the list page, the queries of a shape (which filters, with which of their few possible values, the
# sort, the page) are compiled once per process, the search text standing for itself as a marker in their
# parameters; each request then only puts its text in place of the marker and runs them. The filters whose values
# are open (a laboratory, a substance, a date) keep the usual way, as do a page past the end and the approximate
# search: the result is the same, the ORM building it.

# Stands for the search text while a shape is compiled: any text the form accepts would do, as the text of a request
# goes in by position (see _Requete); _requete checks that this one lands in whole parameters and nowhere else.
_TEXTE_A_VENIR = "texte-de-la-recherche-a-venir"
_CHAMPS_OUVERTS = frozenset({"laboratoire", "substance", "mis_a_jour_depuis"})
_CHAMPS_FERMES = ("type_acces", "etat", "aire_therapeutique", "mitm", "recueil_nominatif", "tri")


@dataclass(frozen=True)
class _Requete:
    sql: str
    params: tuple
    marques: tuple[int, ...]  # positions of the search text in params

    def parametres(self, texte: str) -> list:
        params = list(self.params)
        for position in self.marques:
            params[position] = texte
        return params


@dataclass(frozen=True)
class _PageCompilee:
    lignes: _Requete
    compte: _Requete | None  # without a search: the total is a query of its own (see selectors.paginer)


def _valeur_de_forme(valeur) -> tuple[str, ...]:
    if valeur is None or valeur == "":
        return ()
    if isinstance(valeur, bool):
        return ("true" if valeur else "false",)
    if isinstance(valeur, list | tuple):
        return tuple(sorted(str(v) for v in valeur))
    return (str(valeur),)


def _page_compilee(filtres, texte: str, *, numero: int, par_page: int):
    """The page of the exact query of these filters through its compiled shape, or None when it takes the usual way
    (open filter values, an invalid field, a page past the end, a query whose compilation the marker did not go
    through cleanly)."""
    donnees = filtres.form.cleaned_data
    # A filter of neither list (one added to the FilterSet since) is treated as open: its value, were it left out
    # of the shape, would not be in the query.
    ouverts = donnees.keys() - _CHAMPS_FERMES - {"q"}
    if filtres.errors or any(donnees.get(champ) not in (None, "", []) for champ in ouverts):
        return None
    forme = tuple((champ, _valeur_de_forme(donnees.get(champ))) for champ in _CHAMPS_FERMES)
    modele = _compiler_page(forme, bool(texte), numero, par_page)
    if modele is None:
        return None
    texte = texte[:200]
    compte, requete = modele.compte, modele.lignes
    compter = None
    if compte is not None:

        def compter():
            return selectors.lignes_lire(compte.sql, compte.parametres(texte))[0]["nombre_total"], None

    # The page's offset is in the compiled SQL: `debut` is already there.
    lignes, nombre, _ = selectors.page_lue(
        lambda debut: selectors.lignes_lire(requete.sql, requete.parametres(texte)),
        numero=numero,
        par_page=par_page,
        compter=compter,
    )
    if lignes is None:  # past the last page: the ORM's way gives the last one
        return None
    return selectors.page_comptee(lignes, numero=numero, par_page=par_page, nombre=nombre)


@functools.lru_cache(maxsize=512)
def _compiler_page(forme: tuple, recherche: bool, numero: int, par_page: int) -> _PageCompilee | None:
    donnees = QueryDict(mutable=True)
    for champ, valeurs in forme:
        donnees.setlist(champ, list(valeurs))
    if recherche:
        donnees["q"] = _TEXTE_A_VENIR
    filtres = SpecialiteFilterSet(donnees, recherche=selectors.RECHERCHE_EXACTE)
    if not filtres.is_valid():
        return None
    debut = (max(numero, 1) - 1) * par_page
    if debut >= 2**62:
        return None
    # As selectors.paginer reads a page: with a search, the total comes with the rows (a window); without, it is a
    # query of its own and the rows follow the index of their order.
    lignes = selectors.specialites_lignes_page(filtres.qs)
    compte = None
    if recherche:
        lignes = lignes.annotate(nombre_total=Window(Count("*")))
    else:
        sql, params = filtres.qs.order_by().values("pk").query.sql_with_params()
        compte = _requete(f"SELECT COUNT(*) AS nombre_total FROM ({sql}) AS referentiel", params)  # noqa: S608
        if compte is None or compte.marques:
            return None
    lignes = _requete(*lignes[debut : debut + par_page].query.sql_with_params())
    if lignes is None or recherche != bool(lignes.marques):
        return None
    return _PageCompilee(lignes=lignes, compte=compte)


def _requete(sql: str, params) -> _Requete | None:
    """The compiled query with the positions of the marker; None when the marker is anywhere else than as a
    whole parameter (it would not be replaced)."""
    params = tuple(params)
    marques = tuple(i for i, valeur in enumerate(params) if valeur == _TEXTE_A_VENIR)
    autres = (valeur for i, valeur in enumerate(params) if i not in marques)
    if _TEXTE_A_VENIR in sql or any(isinstance(valeur, str) and _TEXTE_A_VENIR in valeur for valeur in autres):
        return None
    return _Requete(sql=sql, params=params, marques=marques)
