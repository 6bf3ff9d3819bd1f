"""Reads of the référentiel: what the public sees (R1, R2), the search (R3) and the exports.

The HTML pages, the CSV exports and the API all read through these functions, so that a rule about what is public
lives in one place.
"""

import datetime
import re
import unicodedata

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import BooleanField, Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet, Value, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from .enums import EtapeCPC, TypeAcces
from .models import (
    PUT,
    AccesDerogatoire,
    Composition,
    Document,
    Indication,
    Laboratoire,
    RapportPeriodique,
    Specialite,
    Substance,
)

_CLE_DEMONSTRATION = "referentiel:demonstration"

# The text search configuration created by migration 0001: French stemming after unaccent.
CONFIGURATION_RECHERCHE = "french_unaccent"
# Terms shorter than this are left to the full-text part: a 2-letter trigram match would hit most rows.
_LONGUEUR_MIN_TERME_APPROCHE = 3
_TERMES_MAX = 8

ORDRE_ETAT = {"en_cours": 0, "suspendu": 1, "termine": 2}


def demonstration_chargee() -> bool:
    """Whether demonstration data is loaded (every page then says so). Cached a minute: read on every page."""
    valeur = cache.get(_CLE_DEMONSTRATION)
    if valeur is None:
        valeur = Specialite.objects.filter(demonstration=True).exists()
        cache.set(_CLE_DEMONSTRATION, valeur, 60)
    return valeur


def demonstration_oublier() -> None:
    cache.delete(_CLE_DEMONSTRATION)


# --- What is public ----------------------------------------------------------------------------------------


def _acces_prive(prefixe: str = "") -> Q:
    """A CPC still in draft or sent to the holder for comments is not public until it is published (R40)."""
    return Q(
        **{
            f"{prefixe}type_acces": TypeAcces.CPC,
            f"{prefixe}etape_cpc__in": [EtapeCPC.BROUILLON, EtapeCPC.TRANSMIS_TITULAIRE],
        }
    )


def acces_publics() -> QuerySet[AccesDerogatoire]:
    """Derogatory statuses the public may see."""
    return AccesDerogatoire.objects.exclude(_acces_prive())


def specialites_publiques() -> QuerySet[Specialite]:
    """The référentiel (R1): published spécialités holding at least one public derogatory status."""
    return Specialite.objects.filter(publiee=True).filter(Exists(acces_publics().filter(specialite=OuterRef("pk"))))


def specialites_candidates() -> QuerySet[Specialite]:
    """Published fiches BEFORE R1's status condition: the base of SpecialiteFilterSet, which always adds that
    condition merged with its type and state filters (one EXISTS on the statuses instead of two)."""
    return Specialite.objects.filter(publiee=True)


def specialites_filtrer_acces(
    specialites: QuerySet[Specialite], *, types: list[str] | None = None, etats: list[str] | None = None
) -> QuerySet[Specialite]:
    """Spécialités holding one public status that has one of these types AND one of these states ("AAC en
    cours"); without types nor states, R1 itself: at least one public status."""
    acces = acces_publics().filter(specialite=OuterRef("pk"))
    if types:
        acces = acces.filter(type_acces__in=types)
    if etats:
        acces = acces.filter(etat__in=etats)
    return specialites.filter(Exists(acces))


def specialites_filtrer_laboratoire(specialites: QuerySet[Specialite], *, laboratoire) -> QuerySet[Specialite]:
    return specialites.filter(Q(titulaire=laboratoire) | Q(exploitant=laboratoire))


def specialites_filtrer_substance(specialites: QuerySet[Specialite], *, dci: str) -> QuerySet[Specialite]:
    """Spécialités containing a substance whose DCI contains this text, accents and case ignored."""
    compositions = Composition.objects.filter(
        specialite=OuterRef("pk"), substance__dci__unaccent__icontains=dci.strip()
    )
    return specialites.filter(Exists(compositions))


def specialites_filtrer_recueil(specialites: QuerySet[Specialite], *, avec: bool) -> QuerySet[Specialite]:
    """Spécialités with (or without) a PUT that requires nominative data collection (R31)."""
    puts = PUT.objects.filter(acces__specialite=OuterRef("pk"), recueil_nominatif=True, est_proposition=False).exclude(
        _acces_prive("acces__")
    )
    condition = Exists(puts)
    return specialites.filter(condition if avec else ~condition)


def specialites_filtrer_mises_a_jour_depuis(
    specialites: QuerySet[Specialite], *, depuis: datetime.date
) -> QuerySet[Specialite]:
    # From local midnight, so that the index on mis_a_jour_le serves the range (no cast to date).
    debut = timezone.make_aware(datetime.datetime.combine(depuis, datetime.time.min))
    return specialites.filter(mis_a_jour_le__gte=debut)


# --- Search (R3) -------------------------------------------------------------------------------------------


def _sans_accents(texte: str) -> str:
    decompose = unicodedata.normalize("NFKD", texte.lower().replace("œ", "oe").replace("æ", "ae"))
    return "".join(c for c in decompose if not unicodedata.combining(c))


def termes_recherche(texte: str) -> list[str]:
    """The words of a search worth an approximate match (lowercased, without accents)."""
    mots = re.findall(r"\w+", _sans_accents(texte))
    return [m for m in mots if len(m) >= _LONGUEUR_MIN_TERME_APPROCHE][:_TERMES_MAX]


def _terme_approche(terme: str) -> Q:
    """A spécialité close to one word: a word of its document starts with it ("ibrut" finds ibrutinib), or one of
    its DCI or laboratories is within pg_trgm word similarity of it ("ibrutnib", "jansen")."""
    prefixe = SearchQuery(f"{terme}:*", search_type="raw", config=CONFIGURATION_RECHERCHE)
    # A stop word ("pour", "avec") has no lexeme: numnode() = 0, folded to a constant at plan time.
    mot_vide = RawSQL(
        "numnode(to_tsquery(%s::regconfig, %s)) = 0", [CONFIGURATION_RECHERCHE, f"{terme}:*"], BooleanField()
    )
    substances = Substance.objects.filter(
        Q(dci__trigram_word_similar=terme) | Q(dci__trigram_strict_word_similar=terme)
    )
    laboratoires = Laboratoire.objects.filter(
        Q(nom__trigram_word_similar=terme) | Q(nom__trigram_strict_word_similar=terme)
    )
    return (
        Q(mot_vide)
        | Q(document_recherche=prefixe)
        | Q(pk__in=Composition.objects.filter(substance__in=substances).values("specialite_id"))
        | Q(titulaire__in=laboratoires)
        | Q(exploitant__in=laboratoires)
    )


def specialites_rechercher(specialites: QuerySet[Specialite], *, texte: str) -> QuerySet[Specialite]:
    """Spécialités matching the text, annotated with `pertinence` (higher first).

    First the French full-text search on name, DCI, indications and laboratories, accents and word forms ignored
    ("hopital" finds "hôpital", "lymphomes" finds "lymphome"): every word must match. Only when that finds
    nothing in the référentiel does each word get an approximate match instead (a word prefix, or pg_trgm
    similarity to a DCI or a laboratory name: "ibrutnib" finds ibrutinib). Deciding in Python, with one indexed
    EXISTS, keeps the common query a pure full-text one that PostgreSQL serves from the GIN index; the
    approximate one (an OR of subqueries, so a sequential scan) runs only for typos, and pg_trgm only scans the
    small substance and laboratory tables.
    """
    texte = texte.strip()[:200]
    if not texte:
        return specialites
    requete = SearchQuery(texte, search_type="websearch", config=CONFIGURATION_RECHERCHE)
    termes = termes_recherche(texte)
    if not termes or Specialite.objects.filter(publiee=True, document_recherche=requete).exists():
        return specialites.filter(document_recherche=requete).annotate(
            pertinence=SearchRank(F("document_recherche"), requete)
        )
    approchee = Q()
    for terme in termes:
        approchee &= _terme_approche(terme)
    prefixes = SearchQuery(" | ".join(f"{t}:*" for t in termes), search_type="raw", config=CONFIGURATION_RECHERCHE)
    return specialites.filter(approchee).annotate(pertinence=SearchRank(F("document_recherche"), prefixes))


TRIS = {
    "pertinence": ("-pertinence", "nom", "id"),
    "nom": ("nom", "id"),
    "-mis_a_jour_le": ("-mis_a_jour_le", "id"),
}


def specialites_trier(specialites: QuerySet[Specialite], *, tri: str | None) -> QuerySet[Specialite]:
    """Sort by relevance (only when the search annotated it), name, or most recent update."""
    recherche = "pertinence" in specialites.query.annotations
    if tri not in TRIS or (tri == "pertinence" and not recherche):
        tri = "pertinence" if recherche else "nom"
    return specialites.order_by(*TRIS[tri])


# --- Lists, fiches and exports -----------------------------------------------------------------------------


def _acces_ordonnes() -> QuerySet[AccesDerogatoire]:
    return acces_publics().order_by(Coalesce("date_debut", Value(datetime.date.min)).desc(), "-id")


def specialites_pour_liste(specialites: QuerySet[Specialite]) -> QuerySet[Specialite]:
    """What a row of the list (page, CSV, API) shows, in a fixed number of queries whatever the rows."""
    return (
        specialites.defer("document_recherche", "texte_recherche")
        .select_related("titulaire", "exploitant")
        .prefetch_related(
            Prefetch(
                "acces",
                queryset=_acces_ordonnes().only(
                    "id", "specialite_id", "type_acces", "etat", "date_debut", "date_fin", "mis_a_jour_le"
                ),
                to_attr="acces_publics",
            ),
            Prefetch("compositions", queryset=Composition.objects.select_related("substance").order_by("id")),
        )
    )


def specialites_fiches() -> QuerySet[Specialite]:
    """Published spécialités with everything their fiche shows (R2), in a fixed number of queries."""
    acces = (
        _acces_ordonnes()
        .select_related("precedent", "precedent__specialite")
        .prefetch_related(
            Prefetch("indications", queryset=Indication.objects.prefetch_related("criteres")),
            # A laboratory's PUT proposal is not public until the ANSM validates it (R32).
            Prefetch("puts", queryset=PUT.objects.filter(est_proposition=False), to_attr="puts_publics"),
            # Only the résumés the ANSM validated and published (R35).
            Prefetch(
                "rapports",
                queryset=RapportPeriodique.objects.filter(resume_publie_le__isnull=False).exclude(resume=""),
                to_attr="rapports_publies",
            ),
            "prolongations",
            Prefetch(
                "suivants",
                queryset=acces_publics().select_related("specialite").order_by("date_debut", "id"),
                to_attr="suivants_publics",
            ),
        )
    )
    return (
        specialites_publiques()
        .select_related("titulaire", "exploitant")
        .prefetch_related(
            Prefetch("acces", queryset=acces, to_attr="acces_publics"),
            Prefetch("compositions", queryset=Composition.objects.select_related("substance").order_by("id")),
            "conditions_prescription",
            Prefetch(
                "documents",
                queryset=documents_publics().select_related("acces"),
                to_attr="documents_publics",
            ),
        )
    )


def specialite_fiche(*, slug: str) -> Specialite | None:
    return specialites_fiches().filter(slug=slug).first()


def documents_publics() -> QuerySet[Document]:
    """Documents marked public, unless they belong to a status that is not (a CPC draft's PUT-SP, R40)."""
    return Document.objects.filter(public=True).filter(Q(acces__isnull=True) | Q(acces__in=acces_publics()))


def document_public(*, document_id: int) -> Document | None:
    """A document anyone may download: public (see documents_publics), on a published fiche of the référentiel."""
    return (
        documents_publics()
        .filter(pk=document_id, specialite__in=specialites_publiques())
        .only("id", "fichier", "type_mime", "titre")
        .first()
    )


_CLE_LABORATOIRES = "referentiel:laboratoires"


def laboratoires_references() -> list[tuple[int, str]]:
    """(id, name) of the laboratories of the référentiel's spécialités, for the laboratory filter.

    Cached a minute: it is read on every list page, changes rarely, and a laboratory missing from the list for
    that minute can still be searched by name.
    """
    valeur = cache.get(_CLE_LABORATOIRES)
    if valeur is None:
        publiques = specialites_publiques()
        valeur = list(
            Laboratoire.objects.filter(
                Q(pk__in=publiques.values("titulaire_id")) | Q(pk__in=publiques.values("exploitant_id"))
            )
            .order_by("nom")
            .values_list("id", "nom")
        )
        cache.set(_CLE_LABORATOIRES, valeur, 60)
    return valeur


def indications_export(*, specialite: Specialite) -> QuerySet[Indication]:
    """The indications of a fiche's public statuses, with their critères d'octroi, in the fiche's order."""
    return (
        Indication.objects.filter(acces__in=acces_publics().filter(specialite=specialite))
        .select_related("acces")
        .prefetch_related("criteres")
        .order_by("acces__type_acces", "acces_id", "ordre", "id")
    )


def indications_publiques() -> QuerySet[Indication]:
    return Indication.objects.filter(
        acces__in=acces_publics().filter(specialite__in=specialites_publiques())
    ).select_related("acces", "acces__specialite")


def acces_references() -> QuerySet[AccesDerogatoire]:
    """Public statuses of published spécialités (the API's /acces/)."""
    return acces_publics().filter(specialite__in=specialites_publiques()).select_related("specialite")


# --- Conditional requests ----------------------------------------------------------------------------------


class _PaginateurCompte(Paginator):
    """A Paginator told its row count instead of running COUNT(*) (Paginator.count is a cached_property)."""

    def __init__(self, object_list, per_page, *, nombre: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = nombre


def paginer(queryset: QuerySet, *, numero: int, par_page: int, version=None, strict: bool = False) -> Page:
    """One page of rows and the total in ONE query (COUNT(*) OVER ()), instead of a COUNT then the rows: with a
    search, each of them would scan the matches again.

    `version` (an expression, e.g. Max("mis_a_jour_le")) is also computed over every matching row and set on the
    page as `page.version`, for ETag / Last-Modified. Past the last page: the last page, or InvalidPage if strict.
    """
    annotations = {"nombre_total": Window(Count("*"))}
    if version is not None:
        annotations["version_totale"] = Window(version)
    debut = (max(numero, 1) - 1) * par_page
    lignes = list(queryset.annotate(**annotations)[debut : debut + par_page])
    if lignes:
        nombre, derniere = lignes[0].nombre_total, getattr(lignes[0], "version_totale", None)
    elif numero <= 1:
        nombre, derniere = 0, None
    else:
        # Beyond the end (rare): count, then the last page, or a 404 for the API.
        if strict:
            raise EmptyPage("Cette page ne contient aucun résultat.")
        dernier_numero = max(1, -(-queryset.count() // par_page))
        return paginer(queryset, numero=dernier_numero, par_page=par_page, version=version)
    page = _PaginateurCompte(lignes, par_page, nombre=nombre).page(max(numero, 1))
    page.object_list = lignes
    page.version = derniere
    return page


def acces_version(acces: QuerySet[AccesDerogatoire]) -> tuple[datetime.datetime | None, int]:
    agregat = acces.order_by().aggregate(
        dernier=Max(Greatest("mis_a_jour_le", "specialite__mis_a_jour_le")), nombre=Count("id")
    )
    return agregat["dernier"], agregat["nombre"]


def indications_version(indications: QuerySet[Indication]) -> tuple[datetime.datetime | None, int]:
    agregat = indications.order_by().aggregate(
        dernier=Max(Greatest("acces__mis_a_jour_le", "acces__specialite__mis_a_jour_le")), nombre=Count("id")
    )
    return agregat["dernier"], agregat["nombre"]
