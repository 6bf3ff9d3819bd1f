"""Reads of the référentiel: what the public sees (R1, R2), the search (R3) and the exports.

The HTML pages, the CSV exports and the API all read through these functions, so that a rule about what is public
lives in one place.
"""

import datetime
import functools
import hashlib
import json
import re
import unicodedata

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.core.paginator import EmptyPage, Page, Paginator
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    JSONField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Concat, Greatest, JSONObject
from django.utils import timezone

from .enums import (
    EtapeCPC,
    EtatAcces,
    StatutDeclarationTitulaire,
    StatutDemandeProlongation,
    StatutRapport,
    TypeAcces,
)
from .models import (
    ACCES_PRIVE,
    ETAPES_CPC_NON_PUBLIQUES,
    PUT,
    TYPE_NON_PUBLIC_POSSIBLE,
    AccesDerogatoire,
    Composition,
    ConditionPrescription,
    CritereOctroi,
    DeclarationChangementTitulaire,
    DemandeProlongation,
    Document,
    HistoriqueFiche,
    Indication,
    Laboratoire,
    ProlongationEngagementAAP,
    RapportPeriodique,
    Signalement,
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
    """A CPC still in draft or sent to the holder for comments is not public until it is published (R40): the
    model's ACCES_PRIVE (which its acces_public index repeats), on the statuses reached through `prefixe`."""
    return Q(
        **{
            f"{prefixe}type_acces": TYPE_NON_PUBLIC_POSSIBLE,
            f"{prefixe}etape_cpc__in": ETAPES_CPC_NON_PUBLIQUES,
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
    return specialites.filter(
        pk__in=_specialites_avec_acces(tuple(sorted(set(types or ()))), tuple(sorted(set(etats or ()))))
    )


@functools.lru_cache(maxsize=256)
def _specialites_avec_acces(types: tuple[str, ...], etats: tuple[str, ...]) -> RawSQL:
    """The ids of the spécialités holding a public status of these types and states, as SQL compiled once per
    combination of the filters' choices: on every list page and API list, building and compiling this subquery cost
    as much as compiling the rest of the query. An IN rather than a correlated EXISTS, which PostgreSQL plans as the
    same semi-join: the SQL names no table of the outer query, so it stays right in any query, a subquery included."""
    if types and TYPE_NON_PUBLIC_POSSIBLE not in types:
        # Statuses of these types are all public: without _acces_prive's condition, which PostgreSQL cannot tell is
        # always true here, "AAC en cours" is answered from the unique index on the statuses in force alone.
        acces = AccesDerogatoire.objects.filter(type_acces__in=types)
    else:
        acces = acces_publics()
        if types:
            acces = acces.filter(type_acces__in=types)
    if etats:
        acces = acces.filter(etat__in=etats)
    sql, params = acces.order_by().values("specialite_id").query.sql_with_params()
    return RawSQL(sql, params)  # noqa: S611 - compiled by Django


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


RECHERCHE_EXACTE, RECHERCHE_APPROCHEE = "exacte", "approchee"


def recherche_exacte_trouve(texte: str) -> bool:
    """Whether the exact full-text search of this text matches a published spécialité (one indexed EXISTS)."""
    texte = texte.strip()[:200]
    requete = SearchQuery(texte, search_type="websearch", config=CONFIGURATION_RECHERCHE)
    return not termes_recherche(texte) or Specialite.objects.filter(publiee=True, document_recherche=requete).exists()


def specialites_rechercher(
    specialites: QuerySet[Specialite], *, texte: str, mode: str | None = None
) -> QuerySet[Specialite]:
    """Spécialités matching the text, annotated with `pertinence` (higher first).

    First the French full-text search on name, DCI, indications and laboratories, accents and word forms ignored
    ("hopital" finds "hôpital", "lymphomes" finds "lymphome"): every word must match. Only when that finds
    nothing in the référentiel does each word get an approximate match instead (a word prefix, or pg_trgm
    similarity to a DCI or a laboratory name: "ibrutnib" finds ibrutinib). Deciding in Python, with one indexed
    EXISTS, keeps the common query a pure full-text one that PostgreSQL serves from the GIN index; the
    approximate one (an OR of subqueries, so a sequential scan) runs only for typos, and pg_trgm only scans the
    small substance and laboratory tables.

    `mode` (RECHERCHE_EXACTE or RECHERCHE_APPROCHEE) skips that decision, for a caller that takes it itself with
    recherche_exacte_trouve (filters.page_du_referentiel: the exact page first, the check only when it is empty).
    """
    texte = texte.strip()[:200]
    if not texte:
        return specialites
    requete = SearchQuery(texte, search_type="websearch", config=CONFIGURATION_RECHERCHE)
    termes = termes_recherche(texte)
    if mode == RECHERCHE_EXACTE or (mode is None and recherche_exacte_trouve(texte)) or not termes:
        return specialites.filter(document_recherche=requete).annotate(
            pertinence=SearchRank(F("document_recherche"), requete)
        )
    approchee = Q()
    for terme in termes:
        approchee &= _terme_approche(terme)
    prefixes = SearchQuery(" | ".join(f"{t}:*" for t in termes), search_type="raw", config=CONFIGURATION_RECHERCHE)
    return specialites.filter(approchee).annotate(pertinence=SearchRank(F("document_recherche"), prefixes))


def _mot_du_catalogue(mot: str) -> Q:
    """A catalogue row (no search document) holding this word in its name, a DCI or a laboratory's name."""
    return (
        Q(nom__unaccent__icontains=mot)
        | Q(Exists(Composition.objects.filter(specialite=OuterRef("pk"), substance__dci__unaccent__icontains=mot)))
        | Q(titulaire__nom__unaccent__icontains=mot)
        | Q(exploitant__nom__unaccent__icontains=mot)
    )


def specialites_rechercher_catalogue(specialites: QuerySet[Specialite], *, texte: str) -> QuerySet[Specialite]:
    """The back-office search over the whole catalogue, annotated with `pertinence`: the référentiel's search
    (specialites_rechercher) for the spécialités that have a search document, and for the BDPM imports that have
    none (no status yet: the import does not index them, see referentiel.importation) every word of the text in
    their name, a DCI or a laboratory's name, accents and case ignored. A scan of the catalogue's rows, which a
    back-office page can afford and the 15,000 documents nobody else searches are not worth."""
    texte = texte.strip()[:200]
    mots = re.findall(r"\w+", texte)[:_TERMES_MAX]
    if not mots:
        return specialites
    documentees = specialites_rechercher(Specialite.objects.filter(document_recherche__isnull=False), texte=texte)
    par_nom = Q(document_recherche__isnull=True)
    for mot in mots:
        par_nom &= _mot_du_catalogue(mot)
    requete = SearchQuery(texte, search_type="websearch", config=CONFIGURATION_RECHERCHE)
    return specialites.filter(Q(pk__in=documentees.values("pk")) | par_nom).annotate(
        pertinence=Coalesce(SearchRank(F("document_recherche"), requete), Value(0.0))
    )


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
        specialites.defer("document_recherche")
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


# What a row of the list page and of the API list shows (specialites_lignes).
CHAMPS_LIGNE = (
    "id",
    "nom",
    "slug",
    "cis",
    "code_atc",
    "forme_pharmaceutique",
    "voies_administration",
    "aire_therapeutique",
    "mitm",
    "mis_a_jour_le",
)


@functools.cache
def _listes_d_une_ligne() -> dict[str, RawSQL]:
    """The two lists of a row of specialites_lignes as SQL, compiled ONCE per process from the ORM expressions
    below (the rules, such as which statuses are public, stay written once, in acces_publics): building and
    compiling these correlated subqueries on every request cost more than running them. Each refers to the row
    by "referentiel_specialite"."id", the base table of any query on Specialite."""
    acces = (
        _acces_ordonnes()
        .filter(specialite=OuterRef("pk"))
        .values(
            json=JSONObject(
                id="id", type_acces="type_acces", etat="etat", date_debut="date_debut", date_fin="date_fin"
            )
        )
    )
    composition = (
        Composition.objects.filter(specialite=OuterRef("pk"))
        .order_by("id")
        .values(json=JSONObject(dci="substance__dci", dosage="dosage", reference_dosage="reference_dosage"))
    )
    return {
        "acces_publics": _liste_compilee(acces, ArrayField(JSONField())),
        "composition": _liste_compilee(composition, ArrayField(JSONField())),
    }


def _liste_compilee(sous_requete: QuerySet, champ) -> RawSQL:
    """The ARRAY(subquery) of a row of Specialite, compiled once: it refers to the row by
    "referentiel_specialite"."id", the base table of any query on Specialite."""
    requete = Specialite.objects.annotate(liste=ArraySubquery(sous_requete)).query
    sql, params = requete.get_compiler(DEFAULT_DB_ALIAS).compile(requete.annotations["liste"])
    return RawSQL(sql, params, output_field=champ)  # noqa: S611 - compiled by Django


@functools.cache
def _listes_de_la_page() -> dict[str, RawSQL]:
    """The two lists of a row of specialites_lignes_page, compiled once per process like _listes_d_une_ligne, and
    lighter: the list page shows a status as its badge (type and state) and the composition as its DCIs, so
    PostgreSQL sends plain text arrays (no JSON object to build, send and decode per element)."""
    acces = (
        _acces_ordonnes()
        .filter(specialite=OuterRef("pk"))
        .values(badge=Concat("type_acces", Value(SEPARATEUR_BADGE), "etat", output_field=CharField()))
    )
    dci = Composition.objects.filter(specialite=OuterRef("pk")).order_by("id").values("substance__dci")
    return {
        "badges": _liste_compilee(acces, ArrayField(CharField())),
        "dcis": _liste_compilee(dci, ArrayField(CharField())),
    }


# Between a status's type and state in specialites_lignes_page's badges (neither holds it).
SEPARATEUR_BADGE = "|"


def specialites_lignes_page(specialites: QuerySet[Specialite]) -> QuerySet:
    """The rows of the HTML list page: only what it shows (name, address, therapeutic area, MITM, update, holder,
    the public statuses as "type|state" and the DCIs, in the orders of specialites_lignes), in ONE query. The API
    list and its richer rows keep specialites_lignes."""
    return specialites.values(
        "id",
        "nom",
        "slug",
        "aire_therapeutique",
        "mitm",
        "mis_a_jour_le",
        # A subquery, not a join: PostgreSQL reads it after the sort and the limit, for the page's rows only (a
        # broad search matches thousands of spécialités).
        titulaire_nom=Subquery(Laboratoire.objects.filter(pk=OuterRef("titulaire_id")).values("nom")),
        **_listes_de_la_page(),
    )


def specialites_lignes(specialites: QuerySet[Specialite]) -> QuerySet:
    """The rows of the list page and of the API list as dicts, in ONE query whatever the rows: CHAMPS_LIGNE, the
    laboratories' names (`titulaire_nom`, `exploitant_nom`), and as lists of dicts built by PostgreSQL the public
    statuses (`acces_publics`: id, type_acces, etat, date_debut, date_fin; ISO dates) and the composition
    (`composition`: dci, dosage, reference_dosage). PostgreSQL computes the two lists after the sort and the
    limit, so only for the rows of the page; no model instance is built, no prefetch query runs."""
    return specialites.values(
        *CHAMPS_LIGNE,
        titulaire_nom=F("titulaire__nom"),
        exploitant_nom=F("exploitant__nom"),
        **_listes_d_une_ligne(),
    )


def specialites_fiches() -> QuerySet[Specialite]:
    """Published spécialités with everything their fiche shows (R2), in a fixed number of queries."""
    acces = (
        _acces_ordonnes()
        .select_related("precedent", "precedent__specialite")
        .prefetch_related(
            Prefetch("indications", queryset=Indication.objects.prefetch_related("criteres")),
            Prefetch("puts", queryset=puts_publics(), to_attr="puts_publics"),
            Prefetch("rapports", queryset=rapports_publies(), to_attr="rapports_publies"),
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


def puts_publics() -> QuerySet[PUT]:
    """A laboratory's PUT proposal is not public until the ANSM validates it (R32)."""
    return PUT.objects.filter(est_proposition=False)


def rapports_publies() -> QuerySet[RapportPeriodique]:
    """Only the résumés the ANSM validated and published (R35)."""
    return RapportPeriodique.objects.filter(resume_publie_le__isnull=False).exclude(resume="")


# --- The fiche page in one query ---------------------------------------------------------------------------------
# The API's fiche reads specialites_fiches() (model instances, one query per relation, for its serializers). The
# HTML fiche, read far more often, gets the same content from ONE query compiled once per process: the spécialité's
# columns and, as JSON built by PostgreSQL, its laboratories, composition, CPD, public documents and public
# statuses with their indications and criteria, PUT, published résumés, predecessor and successors. The rules of
# what is public are the querysets above (acces_publics, documents_publics, puts_publics, rapports_publies).

_CHAMPS_FICHE = (
    "id",
    "nom",
    "slug",
    "cis",
    "forme_pharmaceutique",
    "voies_administration",
    "titulaire_id",
    "exploitant_id",
    "code_atc",
    "aire_therapeutique",
    "mitm",
    "statut_amm",
    "date_amm",
    "date_arret_commercialisation",
    "reserve_hospitalier",
    "restriction_prescripteurs",
    "retrocession",
    "mis_a_jour_le",
)
_CHAMPS_ACCES_FICHE = (
    "id",
    "specialite_id",
    "type_acces",
    "etat",
    "precedent_id",
    "date_debut",
    "date_fin",
    "date_prochain_renouvellement",
    "conditions_utilisation",
    "phase_aap",
    "date_decision_has",
    "date_cessation",
    "riph_commerciale",
    "engagement_aap",
    "date_limite_depot_aap",
    "origine_signalement",
)
_CHAMPS_LABORATOIRE_FICHE = ("id", "nom", "email", "telephone")
_CHAMPS_DOCUMENT_FICHE = (
    "id",
    "acces_id",
    "type_document",
    "titre",
    "type_mime",
    "taille",
    "date_document",
    "version",
)
_CHAMPS_INDICATION_FICHE = (
    "id",
    "acces_id",
    "libelle",
    "patients_eligibles",
    "maladie_rare",
    "restriction_aap",
    "ordre",
    "publiee_le",
)
_CHAMPS_PUT_FICHE = (
    "id",
    "acces_id",
    "type_put",
    "recueil_nominatif",
    "periodicite_rapports_mois",
    "crpv",
    "version",
    "date_validation",
)
_CHAMPS_RAPPORT_FICHE = ("id", "acces_id", "periode_debut", "periode_fin", "resume", "resume_publie_le")
_SLUG_A_VENIR = "\x00slug"  # stands for the slug in the compiled query; no slug can hold a NUL


def _json(champs: tuple[str, ...], **autres) -> JSONObject:
    return JSONObject(**{champ: champ for champ in champs}, **autres)


def _liste(queryset: QuerySet, objet: JSONObject) -> ArraySubquery:
    return ArraySubquery(queryset.values(json=objet))


@functools.cache
def _requete_fiche() -> tuple[str, list, int]:
    """(SQL, parameters, index of the slug among them) of the fiche query, compiled once per process."""
    lien = {"specialite_id": "specialite_id", "slug": "specialite__slug", "nom": "specialite__nom"}
    suivants = acces_publics().filter(precedent=OuterRef("pk")).order_by("date_debut", "id")
    indications = Indication.objects.filter(acces=OuterRef("pk")).order_by("ordre", "id")
    criteres = CritereOctroi.objects.filter(indication=OuterRef("pk")).order_by("ordre", "id")
    acces = _acces_ordonnes().filter(specialite=OuterRef("pk"))
    objet_acces = _json(
        _CHAMPS_ACCES_FICHE,
        precedent=JSONObject(
            id="precedent_id",
            type_acces="precedent__type_acces",
            date_debut="precedent__date_debut",
            specialite_id="precedent__specialite_id",
            slug="precedent__specialite__slug",
            nom="precedent__specialite__nom",
        ),
        suivants=_liste(suivants, JSONObject(id="id", type_acces="type_acces", date_debut="date_debut", **lien)),
        indications=_liste(
            indications,
            _json(_CHAMPS_INDICATION_FICHE, criteres=_liste(criteres, JSONObject(id="id", libelle="libelle"))),
        ),
        puts=_liste(
            puts_publics().filter(acces=OuterRef("pk")).order_by("-date_validation", "id"), _json(_CHAMPS_PUT_FICHE)
        ),
        rapports=_liste(
            rapports_publies().filter(acces=OuterRef("pk")).order_by("-periode_fin", "id"),
            _json(_CHAMPS_RAPPORT_FICHE),
        ),
        nombre_prolongations=Coalesce(
            Subquery(
                ProlongationEngagementAAP.objects.filter(acces=OuterRef("pk"))
                .values("acces")
                .annotate(n=Count("*"))
                .values("n")
            ),
            Value(0),
        ),
    )
    requete = (
        specialites_publiques()
        .filter(slug=_SLUG_A_VENIR)
        .values(
            *_CHAMPS_FICHE,
            titulaire_json=_json_laboratoire("titulaire"),
            exploitant_json=_json_laboratoire("exploitant"),
            composition_json=_liste(
                Composition.objects.filter(specialite=OuterRef("pk")).order_by("id"),
                JSONObject(dci="substance__dci", dosage="dosage", reference_dosage="reference_dosage"),
            ),
            cpd_json=ArraySubquery(
                ConditionPrescription.objects.filter(specialite=OuterRef("pk")).order_by("id").values("texte")
            ),
            documents_json=_liste(
                documents_publics()
                .filter(specialite=OuterRef("pk"))
                .order_by("type_document", "-date_document", "id"),
                _json(_CHAMPS_DOCUMENT_FICHE),
            ),
            acces_json=_liste(acces, objet_acces),
        )[:1]
    )
    sql, params = requete.query.sql_with_params()
    return sql, list(params), list(params).index(_SLUG_A_VENIR)


def _json_laboratoire(relation: str) -> JSONObject:
    return JSONObject(**{champ: f"{relation}__{champ}" for champ in _CHAMPS_LABORATOIRE_FICHE})


@functools.cache
def _champs_charges(modele, champs: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
    """These fields in the model's order (the order Model.from_db reads values in), and those that are dates."""
    concrets = [champ for champ in modele._meta.concrete_fields if champ.attname in champs]
    dates = frozenset(champ.attname for champ in concrets if champ.get_internal_type() == "DateField")
    return tuple(champ.attname for champ in concrets), dates


def _instance(modele, donnees: dict, champs: tuple[str, ...]):
    """A model instance with only these fields loaded, from a row or a JSON object of the fiche query (where dates
    are ISO text)."""
    ordre, dates = _champs_charges(modele, champs)
    valeurs = [
        datetime.date.fromisoformat(donnees[champ])
        if champ in dates and isinstance(donnees[champ], str)
        else donnees[champ]
        for champ in ordre
    ]
    return modele.from_db(DEFAULT_DB_ALIAS, ordre, valeurs)


def specialite_fiche(*, slug: str) -> Specialite | None:
    """A published spécialité of the référentiel with everything its fiche shows (R2), in ONE query: the instance,
    `titulaire` and `exploitant`, and as lists `compositions_liste` (dicts: dci, dosage, reference_dosage),
    `cpd_liste` (texts), `documents_publics` (Document) and `acces_publics` (AccesDerogatoire, each with
    `indications_liste` of Indication with `criteres_liste`, `puts_publics`, `rapports_publies`,
    `suivants_publics` and `precedent` with their `specialite` (id, slug, name), and `nombre_prolongations`)."""
    sql, params, position = _requete_fiche()
    params = params.copy()
    params[position] = slug
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ligne = cursor.fetchone()
        if ligne is None:
            return None
        colonnes = [colonne.name for colonne in cursor.description]
    valeurs = dict(zip(colonnes, ligne, strict=True))
    specialite = _instance(Specialite, valeurs, _CHAMPS_FICHE)
    for relation in ("titulaire", "exploitant"):
        laboratoire = json.loads(valeurs[f"{relation}_json"])
        if laboratoire["id"] is None:  # no laboratory: the LEFT JOIN gave only NULLs
            setattr(specialite, relation, None)
        else:
            setattr(specialite, relation, _instance(Laboratoire, laboratoire, _CHAMPS_LABORATOIRE_FICHE))
    specialite.compositions_liste = [json.loads(c) for c in valeurs["composition_json"]]
    specialite.cpd_liste = valeurs["cpd_json"]
    specialite.documents_publics = [
        _instance(Document, json.loads(d), _CHAMPS_DOCUMENT_FICHE) for d in valeurs["documents_json"]
    ]
    specialite.acces_publics = [_acces_de_fiche(json.loads(a)) for a in valeurs["acces_json"]]
    return specialite


def _acces_lie(donnees: dict) -> AccesDerogatoire:
    """A predecessor or successor status, with the id, slug and name of its spécialité (for the link)."""
    acces = _instance(AccesDerogatoire, donnees, ("id", "type_acces", "date_debut", "specialite_id"))
    acces.specialite = _instance(Specialite, {**donnees, "id": donnees["specialite_id"]}, ("id", "slug", "nom"))
    return acces


def _acces_de_fiche(donnees: dict) -> AccesDerogatoire:
    acces = _instance(AccesDerogatoire, donnees, _CHAMPS_ACCES_FICHE)
    acces.precedent = _acces_lie(donnees["precedent"]) if donnees["precedent"]["id"] is not None else None
    acces.suivants_publics = [_acces_lie(s) for s in donnees["suivants"]]
    acces.indications_liste = []
    for donnees_indication in donnees["indications"]:
        indication = _instance(Indication, donnees_indication, _CHAMPS_INDICATION_FICHE)
        indication.criteres_liste = donnees_indication["criteres"]
        acces.indications_liste.append(indication)
    acces.puts_publics = [_instance(PUT, p, _CHAMPS_PUT_FICHE) for p in donnees["puts"]]
    acces.rapports_publies = [_instance(RapportPeriodique, r, _CHAMPS_RAPPORT_FICHE) for r in donnees["rapports"]]
    acces.nombre_prolongations = donnees["nombre_prolongations"]
    return acces


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


# --- Public pages kept in the cache ------------------------------------------------------------------------
# The list page, the fiche and the API list are what anonymous visitors read most, and they change only when a
# fiche does. Their rendered content is kept in the cache under the référentiel's version, so that a change shows
# at once; what does not touch a fiche (a laboratory renamed, a substance spelled differently by the BDPM) shows
# within DUREE_PAGES_EN_CACHE, the same delay as laboratoires_references and less than the API's own max-age.

DUREE_PAGES_EN_CACHE = 60
_generation_pages = [0]


def version_referentiel() -> str:
    """Changes with every change to a fiche (each service, and the BDPM import, sets Specialite.mis_a_jour_le; a
    new spécialité brings a newer one) and when the demonstration data goes, the application's only deletion of
    spécialités (the admin allows none: a fiche ends through its statuses). One query, served by the index on
    mis_a_jour_le; the demonstration flag is itself cached (demonstration_chargee)."""
    sql, params = _requete_version()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ligne = cursor.fetchone()
    dernier = ligne[0] if ligne else None
    return f"{dernier.timestamp() if dernier else 0}-{int(demonstration_chargee())}"


@functools.cache
def _requete_version() -> tuple[str, tuple]:
    # Compiled once per process: it runs before every public page and API list, cached or not, and building the
    # query cost as much as running it. ORDER BY ... LIMIT 1 rather than MAX(), which only an aggregate() (run at
    # once) compiles: the same backward scan of the index on mis_a_jour_le, a column that is never NULL.
    return Specialite.objects.order_by("-mis_a_jour_le").values_list("mis_a_jour_le")[:1].query.sql_with_params()


def page_en_cache(cle: str, fabriquer, *, pour):
    """fabriquer()'s value for this key at the référentiel's current version, computed once per version and per
    DUREE_PAGES_EN_CACHE. The version is read first: a page built from data newer than its key is harmless, the
    other way round (old data under a new key) cannot happen.

    Only the page every visitor gets is cached: for a logged-in user `pour` (who may see what the public does not,
    a preview), fabriquer() runs each time."""
    if pour is not None and pour.is_authenticated:
        return fabriquer()
    version = version_referentiel()
    empreinte = hashlib.sha256(cle.encode()).hexdigest()
    complete = f"referentiel:page:{_generation_pages[0]}:{version}:{empreinte}"
    valeur = cache.get(complete)
    if valeur is None:
        valeur = fabriquer()
        cache.set(complete, valeur, DUREE_PAGES_EN_CACHE)
    return valeur


def pages_en_cache_oublier() -> None:
    """Forget every page this process cached (tests, and the benchmark's cache-miss measures)."""
    _generation_pages[0] += 1


# --- Conditional requests ----------------------------------------------------------------------------------


class _PaginateurCompte(Paginator):
    """A Paginator told its row count instead of running COUNT(*) (Paginator.count is a cached_property)."""

    def __init__(self, object_list, per_page, *, nombre: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = nombre


def paginer(
    queryset: QuerySet,
    *,
    numero: int,
    par_page: int,
    version=None,
    strict: bool = False,
    compte: QuerySet | None = None,
) -> Page:
    """One page of rows and the total in ONE query (COUNT(*) OVER ()), instead of a COUNT then the rows: with a
    search, each of them would scan the matches again.

    `compte`, the same rows without what a row shows, counts them in a query of its own instead: the better plan
    when reading the page does not need every matching row (no search to rank them): the page is then read along
    the index of its order and stops after its rows, where the window would build every matching row (joins
    included) to count it; the bare count is a semi-join on indexes.

    `version` (an expression, e.g. Max("mis_a_jour_le")) is also computed over every matching row and set on the
    page as `page.version`, for ETag / Last-Modified. Past the last page: the last page, or InvalidPage if strict.
    """
    if compte is not None:
        totaux = {"nombre_total": Count("*")}
        if version is not None:
            totaux["version_totale"] = version

        def compter():
            lus = compte.order_by().aggregate(**totaux)
            return lus["nombre_total"], lus.get("version_totale")

        def lire(debut):
            return list(queryset[debut : debut + par_page])
    else:
        compter = None
        annotations = {"nombre_total": Window(Count("*"))}
        if version is not None:
            annotations["version_totale"] = Window(version)

        def lire(debut):
            return list(queryset.annotate(**annotations)[debut : debut + par_page])

    lignes, nombre, derniere = page_lue(lire, numero=numero, par_page=par_page, compter=compter)
    if lignes is None:  # past the last page: the last page, or a 404 for the API
        if strict:
            raise EmptyPage("Cette page ne contient aucun résultat.")
        if nombre is None:  # the window's way counts only here (rare), then reads the last page
            return paginer(
                queryset, numero=max(1, -(-queryset.count() // par_page)), par_page=par_page, version=version
            )
        compte_lu = (nombre, derniere)
        numero = max(1, -(-nombre // par_page))
        lignes, nombre, derniere = page_lue(lire, numero=numero, par_page=par_page, compter=lambda: compte_lu)
    return page_comptee(lignes, numero=numero, par_page=par_page, nombre=nombre, version=derniere)


def page_lue(lire, *, numero: int, par_page: int, compter=None) -> tuple[list | None, int | None, object]:
    """How paginer reads a page, whatever reads the rows (the ORM, or filters._page_compilee's compiled SQL):
    (rows, total, version) of page `numero`.

    With `compter` (() -> (total, version), a query of its own), the total first, then `lire(debut)` only when the
    page has rows. Without, `lire(debut)` gives the rows and, in each, the total and version (nombre_total,
    version_totale: a window). Past the last page: rows None, with the total when it was counted (else None)."""
    debut = (max(numero, 1) - 1) * par_page
    if compter is not None:
        nombre, version = compter()
        if numero > 1 and debut >= nombre:
            return None, nombre, version
        return (lire(debut) if nombre else []), nombre, version
    # PostgreSQL's OFFSET is a bigint: a page number beyond it (?page=10**18) is past the end, not an error.
    lignes = lire(debut) if debut < 2**62 else []
    if lignes:
        premiere = lignes[0] if isinstance(lignes[0], dict) else lignes[0].__dict__  # values() rows or instances
        return lignes, premiere["nombre_total"], premiere.get("version_totale")
    if numero <= 1:
        return [], 0, None
    return None, None, None


def page_comptee(lignes: list, *, numero: int, par_page: int, nombre: int, version=None) -> Page:
    """The Page of these rows, told its total (no COUNT query) and `version` (page.version): paginer's pages, and
    those of rows read by a query of one's own (filters._page_compilee)."""
    page = _PaginateurCompte(lignes, par_page, nombre=nombre).page(max(numero, 1))
    page.object_list = lignes
    page.version = version
    return page


def lignes_lire(sql: str, params) -> list[dict]:
    """The rows of a compiled values() query as dicts, as the ORM would give them for columns without a converter
    (texts, numbers, booleans, dates and times, arrays of texts): the caller compiled the query itself."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        noms = [colonne.name for colonne in cursor.description]
        return [dict(zip(noms, ligne, strict=True)) for ligne in cursor.fetchall()]


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


# --- Back-office and laboratory space (issue 5) ------------------------------------------------------------------

# How far ahead the ANSM dashboard looks: AAP commitments (R23: the laboratory is reminded 60 days before), CPC
# terms (R38: the ANSM is reminded 6 months before), periodic reports (R34).
JOURS_ALERTE_ENGAGEMENT_AAP = 60
MOIS_ALERTE_CPC = 6
JOURS_ALERTE_RAPPORT = 30


def laboratoires_destinataires(laboratoires) -> list[str]:
    """Who hears about a laboratory's product (R40, R23, R29): its contact address and its active accounts."""
    from comptes.enums import Role
    from comptes.models import Utilisateur

    ids = list(dict.fromkeys(lab.pk for lab in laboratoires if lab is not None))
    if not ids:
        return []
    adresses = list(
        Laboratoire.objects.filter(pk__in=ids).exclude(email="").order_by("nom").values_list("email", flat=True)
    )
    adresses += (
        Utilisateur.objects.filter(role=Role.LABORATOIRE, is_active=True, laboratoire_id__in=ids)
        .order_by("email")
        .values_list("email", flat=True)
    )
    return list(dict.fromkeys(a.lower() for a in adresses))


def _acces_resume() -> QuerySet[AccesDerogatoire]:
    return AccesDerogatoire.objects.only(
        "id", "specialite_id", "type_acces", "etat", "etape_cpc", "date_debut", "date_fin", "date_cessation"
    ).order_by(Coalesce("date_debut", Value(datetime.date.min)).desc(), "-id")


def gestion_specialites(*, texte: str = "", avec_statut: bool | None = None) -> QuerySet[Specialite]:
    """Every spécialité for the back-office, BDPM imports included (a fiche starts by picking one): by name, DCI,
    laboratory or exact CIS code, optionally only those with (or without) a derogatory status."""
    specialites = Specialite.objects.all()
    texte = (texte or "").strip()[:200]
    if re.fullmatch(r"\d{8}", texte):
        specialites = specialites.filter(cis=texte)
    elif texte:
        specialites = specialites_rechercher_catalogue(specialites, texte=texte)
    if avec_statut is not None:
        condition = Exists(AccesDerogatoire.objects.filter(specialite=OuterRef("pk")))
        specialites = specialites.filter(condition if avec_statut else ~condition)
    ordre = ("-pertinence", "nom", "id") if "pertinence" in specialites.query.annotations else ("nom", "id")
    return (
        specialites.defer("document_recherche")
        .select_related("titulaire", "exploitant")
        .prefetch_related(Prefetch("acces", queryset=_acces_resume(), to_attr="acces_liste"))
        .order_by(*ordre)
    )


def gestion_specialite(*, pk: int) -> Specialite | None:
    """One spécialité with everything its management page shows, in a fixed number of queries."""
    acces = (
        AccesDerogatoire.objects.select_related("precedent")
        .prefetch_related(
            Prefetch("indications", queryset=Indication.objects.prefetch_related("criteres")),
            Prefetch("puts", queryset=PUT.objects.select_related("propose_par").order_by("-id")),
            Prefetch("rapports", queryset=RapportPeriodique.objects.order_by("-periode_fin", "-id")),
            Prefetch("prolongations", queryset=ProlongationEngagementAAP.objects.select_related("accordee_par")),
            Prefetch(
                "demandes_prolongation",
                queryset=DemandeProlongation.objects.select_related("laboratoire", "demandee_par"),
            ),
            "renouvellements_cpc",
            Prefetch("signalements", queryset=Signalement.objects.order_by("-date_signalement")),
        )
        .order_by("etat", Coalesce("date_debut", Value(datetime.date.max)).desc(), "-id")
    )
    return (
        Specialite.objects.filter(pk=pk)
        .defer("document_recherche")
        .select_related("titulaire", "exploitant")
        .prefetch_related(
            Prefetch("acces", queryset=acces),
            Prefetch("compositions", queryset=Composition.objects.select_related("substance").order_by("id")),
            Prefetch("documents", queryset=Document.objects.select_related("acces").order_by("-date_document", "-id")),
            Prefetch(
                "declarations_titulaire",
                queryset=DeclarationChangementTitulaire.objects.select_related("laboratoire", "declaree_par"),
            ),
        )
        .first()
    )


def historique_de_fiche(*, specialite: Specialite) -> QuerySet[HistoriqueFiche]:
    """Who changed what on the fiche, most recent first (index historique_fiche_date)."""
    return HistoriqueFiche.objects.filter(specialite=specialite).select_related("auteur").order_by("-le", "-id")


def _sans_aap() -> Exists:
    """R23: the commitment is met once the medicine has an early access (AAP) of its own."""
    return ~Exists(AccesDerogatoire.objects.filter(specialite=OuterRef("specialite"), type_acces=TypeAcces.AAP))


def engagements_aap(*, aujourd_hui: datetime.date, jours: int | None = None) -> QuerySet[AccesDerogatoire]:
    """R23: AAC in force whose laboratory committed to file an AAP and has not yet got one, earliest deadline first;
    with `jours`, only those overdue or due within that many days."""
    acces = AccesDerogatoire.objects.filter(
        type_acces=TypeAcces.AAC,
        etat=EtatAcces.EN_COURS,
        engagement_aap=True,
        date_limite_depot_aap__isnull=False,
    ).filter(_sans_aap())
    if jours is not None:
        acces = acces.filter(date_limite_depot_aap__lte=aujourd_hui + datetime.timedelta(days=jours))
    return (
        acces.select_related("specialite__titulaire", "specialite__exploitant")
        .annotate(
            en_retard=ExpressionWrapper(Q(date_limite_depot_aap__lt=aujourd_hui), output_field=BooleanField()),
            demandes_en_attente=Count(
                "demandes_prolongation",
                filter=Q(demandes_prolongation__statut=StatutDemandeProlongation.DEPOSEE),
                distinct=True,
            ),
            nombre_prolongations=Count("prolongations", distinct=True),
        )
        .order_by("date_limite_depot_aap", "id")
    )


def _cpc_a_echeance(aujourd_hui: datetime.date) -> Q:
    from .regles import ajouter_mois

    return Q(
        type_acces=TypeAcces.CPC,
        etat=EtatAcces.EN_COURS,
        etape_cpc=EtapeCPC.PUBLIE,
        date_fin__lte=ajouter_mois(aujourd_hui, MOIS_ALERTE_CPC),
    )


def cpc_liste(
    *, aujourd_hui: datetime.date, etape: str | None = None, a_echeance: bool = False, termines: bool = False
) -> QuerySet[AccesDerogatoire]:
    """CPC of the référentiel for the back-office: drafts, sent to the holder, published (R38-R40)."""
    acces = AccesDerogatoire.objects.filter(type_acces=TypeAcces.CPC)
    if not termines:
        acces = acces.exclude(etat=EtatAcces.TERMINE)
    if etape:
        acces = acces.filter(etape_cpc=etape)
    if a_echeance:
        acces = acces.filter(_cpc_a_echeance(aujourd_hui))
    return (
        acces.select_related("specialite__titulaire", "specialite__exploitant")
        .prefetch_related(Prefetch("signalements", queryset=Signalement.objects.order_by("-date_signalement")))
        .annotate(
            a_echeance=ExpressionWrapper(_cpc_a_echeance(aujourd_hui), output_field=BooleanField()),
            nombre_renouvellements=Count("renouvellements_cpc"),
        )
        .order_by("etat", Coalesce("date_fin", Value(datetime.date.max)), "id")
    )


def cpc_de_gestion(*, pk: int) -> AccesDerogatoire | None:
    return (
        AccesDerogatoire.objects.filter(pk=pk, type_acces=TypeAcces.CPC)
        .select_related("specialite__titulaire", "specialite__exploitant")
        .prefetch_related("signalements", "renouvellements_cpc", "indications")
        .first()
    )


def signalements_liste(*, origine: str | None = None, sans_cpc: bool = False) -> QuerySet[Signalement]:
    """R39: the signalements received, most recent first, with the CPC each one led to."""
    signalements = Signalement.objects.all()
    if origine:
        signalements = signalements.filter(origine=origine)
    if sans_cpc:
        signalements = signalements.filter(cpc__isnull=True)
    return signalements.select_related("specialite", "substance", "cpc", "enregistre_par").order_by(
        "-date_signalement", "-id"
    )


def rapports_liste(
    *, aujourd_hui: datetime.date, statut: str | None = None, en_retard: bool = False, texte: str = ""
) -> QuerySet[RapportPeriodique]:
    """R34-R35: the periodic reports by state, the overdue ones (due, not received) flagged `en_retard`."""
    rapports = RapportPeriodique.objects.all()
    if statut:
        rapports = rapports.filter(statut=statut)
    retard = Q(statut=StatutRapport.ATTENDU, date_echeance__lt=aujourd_hui)
    if en_retard:
        rapports = rapports.filter(retard)
    if texte.strip():
        rapports = rapports.filter(acces__specialite__nom__unaccent__icontains=texte.strip()[:200])
    return (
        rapports.select_related("acces__specialite__titulaire", "acces__specialite__exploitant", "depose_par")
        .annotate(en_retard=ExpressionWrapper(retard, output_field=BooleanField()))
        .order_by(
            Case(
                When(statut=StatutRapport.ATTENDU, then=Value(1)),
                When(statut=StatutRapport.VALIDE, then=Value(2)),
                default=Value(0),
            ),
            "date_echeance",
            "id",
        )
    )


def rapport_de_gestion(*, pk: int) -> RapportPeriodique | None:
    return RapportPeriodique.objects.select_related("acces__specialite", "depose_par").filter(pk=pk).first()


def prolongations_en_attente() -> QuerySet[DemandeProlongation]:
    return (
        DemandeProlongation.objects.filter(statut=StatutDemandeProlongation.DEPOSEE)
        .select_related("acces__specialite", "laboratoire", "demandee_par")
        .order_by("demandee_le", "id")
    )


def declarations_en_attente() -> QuerySet[DeclarationChangementTitulaire]:
    return (
        DeclarationChangementTitulaire.objects.filter(statut=StatutDeclarationTitulaire.DEPOSEE)
        .select_related("specialite__titulaire", "specialite__exploitant", "laboratoire", "declaree_par")
        .order_by("declaree_le", "id")
    )


def propositions_put_en_attente() -> QuerySet[PUT]:
    """R32: laboratories' PUT proposals the ANSM has not validated yet."""
    return (
        PUT.objects.filter(est_proposition=True)
        .select_related("acces__specialite", "propose_par")
        .order_by(Coalesce("propose_le", Value(datetime.datetime.min.replace(tzinfo=datetime.UTC))), "id")
    )


def tableau_de_bord_referentiel(*, aujourd_hui: datetime.date) -> dict[str, int]:
    """The référentiel's figures of the ANSM dashboard, in three queries whatever the size of the tables."""
    echeance_aap = aujourd_hui + datetime.timedelta(days=JOURS_ALERTE_ENGAGEMENT_AAP)
    engagements = Q(
        type_acces=TypeAcces.AAC, etat=EtatAcces.EN_COURS, engagement_aap=True, date_limite_depot_aap__isnull=False
    )
    acces = (
        AccesDerogatoire.objects.filter(engagements | Q(type_acces=TypeAcces.CPC, etat=EtatAcces.EN_COURS))
        .annotate(sans_aap=_sans_aap())
        .aggregate(
            engagements_en_retard=Count(
                "id", filter=engagements & Q(sans_aap=True, date_limite_depot_aap__lt=aujourd_hui)
            ),
            engagements_a_echeance=Count(
                "id",
                filter=engagements
                & Q(sans_aap=True, date_limite_depot_aap__gte=aujourd_hui, date_limite_depot_aap__lte=echeance_aap),
            ),
            cpc_a_echeance=Count("id", filter=_cpc_a_echeance(aujourd_hui)),
            cpc_en_projet=Count(
                "id",
                filter=ACCES_PRIVE,
            ),
        )
    )
    rapports = RapportPeriodique.objects.exclude(statut=StatutRapport.VALIDE).aggregate(
        rapports_en_retard=Count("id", filter=Q(statut=StatutRapport.ATTENDU, date_echeance__lt=aujourd_hui)),
        rapports_a_echeance=Count(
            "id",
            filter=Q(
                statut=StatutRapport.ATTENDU,
                date_echeance__gte=aujourd_hui,
                date_echeance__lte=aujourd_hui + datetime.timedelta(days=JOURS_ALERTE_RAPPORT),
            ),
        ),
        rapports_a_evaluer=Count("id", filter=Q(statut__in=[StatutRapport.RECU, StatutRapport.EN_EVALUATION])),
    )
    laboratoires = (
        DemandeProlongation.objects.filter(statut=StatutDemandeProlongation.DEPOSEE)
        .values("id")
        .annotate(nature=Value("prolongations"))
        .union(
            DeclarationChangementTitulaire.objects.filter(statut=StatutDeclarationTitulaire.DEPOSEE)
            .values("id")
            .annotate(nature=Value("declarations")),
            PUT.objects.filter(est_proposition=True).values("id").annotate(nature=Value("propositions")),
            all=True,
        )
    )
    en_attente = {"prolongations": 0, "declarations": 0, "propositions": 0}
    for ligne in laboratoires:
        en_attente[ligne["nature"]] += 1
    return {
        **acces,
        **rapports,
        "prolongations_en_attente": en_attente["prolongations"],
        "declarations_en_attente": en_attente["declarations"],
        "propositions_en_attente": en_attente["propositions"],
        "demandes_laboratoires": sum(en_attente.values()),
    }


# --- The laboratory space: its own products only, and never patient data ---------------------------------------


def _acces_vus_par_laboratoire() -> QuerySet[AccesDerogatoire]:
    """A CPC in draft is the ANSM's internal work; the holder sees it once sent for comments (R40)."""
    return AccesDerogatoire.objects.exclude(type_acces=TypeAcces.CPC, etape_cpc=EtapeCPC.BROUILLON)


def _nombre_aac_octroyees() -> Subquery:
    """How many AAC were granted for the spécialité: a COUNT, never a row of a request (no patient data)."""
    from demandes.enums import StatutDemande
    from demandes.models import DemandeAAC

    octroyees = (
        DemandeAAC.objects.filter(
            specialite=OuterRef("pk"), statut__in=[StatutDemande.OCTROYEE, StatutDemande.EXPIREE]
        )
        .order_by()
        .values("specialite")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(octroyees), Value(0))


def specialites_du_laboratoire(*, laboratoire: Laboratoire) -> QuerySet[Specialite]:
    """The products of a laboratory, titulaire or exploitant (R29), with their statuses and their AAC count."""
    return (
        Specialite.objects.filter(Q(titulaire=laboratoire) | Q(exploitant=laboratoire))
        .defer("document_recherche")
        .select_related("titulaire", "exploitant")
        .prefetch_related(
            Prefetch(
                "acces",
                queryset=_acces_vus_par_laboratoire().only(
                    "id", "specialite_id", "type_acces", "etat", "etape_cpc", "date_debut", "date_fin"
                ),
                to_attr="acces_liste",
            )
        )
        .annotate(nombre_aac=_nombre_aac_octroyees())
        .order_by("nom", "id")
    )


def specialite_du_laboratoire(*, laboratoire: Laboratoire, pk: int) -> Specialite | None:
    """One product of the laboratory with what its page shows; None for anyone else's (a 404, not a 403)."""
    acces = (
        _acces_vus_par_laboratoire()
        .prefetch_related(
            Prefetch("indications", queryset=Indication.objects.prefetch_related("criteres")),
            Prefetch("puts", queryset=PUT.objects.order_by("-id")),
            Prefetch("rapports", queryset=RapportPeriodique.objects.order_by("date_echeance", "id")),
            "prolongations",
            Prefetch("demandes_prolongation", queryset=DemandeProlongation.objects.order_by("-demandee_le")),
        )
        .order_by("etat", Coalesce("date_debut", Value(datetime.date.max)).desc(), "-id")
    )
    return (
        specialites_du_laboratoire(laboratoire=laboratoire)
        .filter(pk=pk)
        .prefetch_related(
            Prefetch("acces", queryset=acces),
            Prefetch("compositions", queryset=Composition.objects.select_related("substance").order_by("id")),
            Prefetch(
                "declarations_titulaire",
                queryset=DeclarationChangementTitulaire.objects.filter(laboratoire=laboratoire).order_by(
                    "-declaree_le"
                ),
            ),
        )
        .first()
    )


def rapports_du_laboratoire(*, laboratoire: Laboratoire) -> QuerySet[RapportPeriodique]:
    """R34: the reports a laboratory owes or sent for its products, earliest due first."""
    return (
        RapportPeriodique.objects.filter(
            Q(acces__specialite__titulaire=laboratoire) | Q(acces__specialite__exploitant=laboratoire)
        )
        .select_related("acces__specialite")
        .order_by("date_echeance", "id")
    )


def acces_du_laboratoire(*, laboratoire: Laboratoire, pk: int) -> AccesDerogatoire | None:
    """A status of one of the laboratory's products, or None (someone else's product is a 404)."""
    return (
        _acces_vus_par_laboratoire()
        .filter(pk=pk)
        .filter(Q(specialite__titulaire=laboratoire) | Q(specialite__exploitant=laboratoire))
        .select_related("specialite")
        .first()
    )


def rapport_du_laboratoire(*, laboratoire: Laboratoire, pk: int) -> RapportPeriodique | None:
    return rapports_du_laboratoire(laboratoire=laboratoire).filter(pk=pk).first()
