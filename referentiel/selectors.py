"""Reads of the référentiel: what the public sees (R1, R2), the search (R3) and the exports.

The HTML pages, the CSV exports and the API all read through these functions, so that a rule about what is public
lives in one place.
"""

import datetime
import re

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramStrictWordSimilarity
from django.core.cache import cache
from django.db.models import Count, Exists, F, Func, Max, OuterRef, Prefetch, Q, QuerySet, TextField, Value
from django.db.models.functions import Coalesce, Greatest, Lower
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


def specialites_filtrer_acces(
    specialites: QuerySet[Specialite], *, types: list[str] | None = None, etats: list[str] | None = None
) -> QuerySet[Specialite]:
    """Spécialités holding one status that has one of these types AND one of these states ("AAC en cours")."""
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


class _SansAccents(Func):
    function = "immutable_unaccent"
    output_field = TextField()


def _normaliser(texte: str) -> Func:
    return _SansAccents(Lower(Value(texte)))


def termes_recherche(texte: str) -> list[str]:
    return [t for t in re.findall(r"\w+", texte.lower()) if len(t) >= _LONGUEUR_MIN_TERME_APPROCHE][:_TERMES_MAX]


def specialites_rechercher(specialites: QuerySet[Specialite], *, texte: str) -> QuerySet[Specialite]:
    """Spécialités matching the text, annotated with `pertinence` (higher first).

    A row matches when the French full-text document (name, DCI, indications, laboratories; accents and word
    forms ignored) matches every word, or when every word is close to a whole word of the name, DCI or laboratory
    (pg_trgm strict word similarity, for typos in a DCI: "ibrutnib" finds ibrutinib; its default threshold 0.5
    lets one wrong letter through where the plain word similarity's 0.6 does not). Both sides are GIN-indexed.
    """
    texte = texte.strip()[:200]
    if not texte:
        return specialites
    requete = SearchQuery(texte, search_type="websearch", config=CONFIGURATION_RECHERCHE)
    condition = Q(document_recherche=requete)
    termes = termes_recherche(texte)
    if termes:
        approchee = Q()
        for terme in termes:
            approchee &= Q(texte_recherche__trigram_strict_word_similar=_normaliser(terme))
        condition |= approchee
    pertinence = SearchRank(F("document_recherche"), requete) + TrigramStrictWordSimilarity(
        _normaliser(texte), "texte_recherche"
    )
    return specialites.filter(condition).annotate(pertinence=pertinence)


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
                queryset=Document.objects.filter(public=True).select_related("acces"),
                to_attr="documents_publics",
            ),
        )
    )


def specialite_fiche(*, slug: str) -> Specialite | None:
    return specialites_fiches().filter(slug=slug).first()


def document_public(*, document_id: int) -> Document | None:
    """A document anyone may download: marked public, on a published fiche of the référentiel."""
    return (
        Document.objects.filter(pk=document_id, public=True, specialite__in=specialites_publiques())
        .only("id", "fichier", "type_mime", "titre")
        .first()
    )


def laboratoires_references() -> list[tuple[int, str]]:
    """(id, name) of the laboratories of the référentiel's spécialités, for the laboratory filter."""
    publiques = specialites_publiques()
    return list(
        Laboratoire.objects.filter(
            Q(Exists(publiques.filter(titulaire=OuterRef("pk"))))
            | Q(Exists(publiques.filter(exploitant=OuterRef("pk"))))
        )
        .order_by("nom")
        .values_list("id", "nom")
    )


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


def specialites_version(specialites: QuerySet[Specialite]) -> tuple[datetime.datetime | None, int]:
    """(latest update, number of rows) of a filtered list: what its ETag and Last-Modified derive from."""
    agregat = specialites.order_by().aggregate(dernier=Max("mis_a_jour_le"), nombre=Count("id"))
    return agregat["dernier"], agregat["nombre"]


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
