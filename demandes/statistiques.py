"""The ANSM's statistics on AAC requests (issue 5): requests per month and per medicine, the share of immediate
grants (R15), the median and 90th percentile of the time to decision, refusals by reason (R18), and the backlog by
age. Every figure is computed by PostgreSQL (GROUP BY, conditional COUNT, percentile_cont), never by looping over
rows in Python: the page and the monthly report (issue 6) cost a handful of queries whatever the volume.

Definitions (the page states them too):
- a request counts in the month of its submission to the ANSM (`soumise_le`), a decision in the month it was
  taken (`decidee_le`); the period's bounds are whole days in the ANSM's time zone, both included;
- the time to decision is `decidee_le - soumise_le`, in days, over the decisions taken in the period; the median
  and the 90th percentile interpolate linearly between the two nearest values (PostgreSQL `percentile_cont`);
- the backlog is a snapshot at `maintenant` (the requests waiting for the ANSM then), not a figure of the period.
"""

import datetime

from django.db.models import (
    Aggregate,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Min,
    Q,
    Value,
)
from django.db.models.functions import Coalesce, NullIf, TruncMonth
from django.utils import timezone

from .enums import STATUTS_INSTRUCTION, MotifRefus, SensDecision, StatutDemande, Urgence
from .models import DemandeAAC

SECONDES_PAR_JOUR = 86400
# The backlog's age bands: (key, label, from day, to day excluded).
TRANCHES_ATTENTE = (
    ("moins_7", "Moins de 7 jours", 0, 7),
    ("7_14", "7 à 14 jours", 7, 15),
    ("15_30", "15 à 30 jours", 15, 31),
    ("31_60", "31 à 60 jours", 31, 61),
    ("plus_60", "Plus de 60 jours", 61, None),
)
SANS_NOM = "Médicament non désigné"


class Centile(Aggregate):
    """PostgreSQL's continuous percentile (linear interpolation), an ordered-set aggregate."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, *, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be within [0, 1]")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def _jours_de_decision():
    """The time from submission to decision, in days (a float)."""
    duree = ExpressionWrapper(F("decidee_le") - F("soumise_le"), output_field=DurationField())
    return Func(
        duree, template=f"EXTRACT(EPOCH FROM %(expressions)s) / {SECONDES_PAR_JOUR}.0", output_field=FloatField()
    )


def _bornes(debut: datetime.date, fin: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """[start of `debut`, start of the day after `fin`) in the current time zone: whole days, both included."""
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(debut, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(fin + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz),
    )


def _mois_de(debut: datetime.date, fin: datetime.date) -> list[datetime.date]:
    mois, dernier = debut.replace(day=1), fin.replace(day=1)
    liste = []
    while mois <= dernier:
        liste.append(mois)
        mois = (mois + datetime.timedelta(days=32)).replace(day=1)
    return liste


def _part(nombre: int, total: int) -> float | None:
    return None if not total else round(100 * nombre / total, 1)


def _arrondi(valeur: float | None) -> float | None:
    return None if valeur is None else round(valeur, 2)


def _date_locale(moment) -> datetime.date:
    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


def statistiques_calculer(
    *, debut: datetime.date, fin: datetime.date, maintenant: datetime.datetime | None = None
) -> dict:
    """The figures of the requests submitted and decided between `debut` and `fin` (whole days, both included),
    and the backlog at `maintenant` (now by default). Five SQL queries, whatever the number of requests.

    Returns a dict:
    - "par_mois": one row per month of the period, zeros included: {"mois": date (1st), "soumises", "octroyees",
      "refusees"} (submissions by submission month, decisions by decision month);
    - "par_medicament": {"medicament", "demandes", "octroyees", "refusees"} for the requests submitted in the
      period, by spécialité (or the name typed for a non-referenced medicine), most requested first;
    - "decisions": {"total", "octrois", "octrois_immediats", "refus", "part_immediats_octrois",
      "part_immediats_decisions"} (shares in %, one decimal, None without a denominator);
    - "delais": {"nombre", "median_jours", "p90_jours", "nombre_evalues", "median_evalues_jours",
      "p90_evalues_jours"}: time to decision in days (2 decimals), all decisions then those not immediate (R15);
    - "refus_par_motif": every R18 reason, zeros included: {"motif", "libelle", "nombre", "part"};
    - "en_attente": {"total", "urgences_vitales", "plus_ancienne", "tranches": [{"tranche", "libelle", "nombre"}]}.
    """
    if debut > fin:
        raise ValueError("debut must not be after fin")
    maintenant = maintenant or timezone.now()
    de, a = _bornes(debut, fin)
    soumises = Q(soumise_le__gte=de, soumise_le__lt=a)
    decidees = Q(decidee_le__gte=de, decidee_le__lt=a, decision__isnull=False)
    octroi, refus = Q(decision__sens=SensDecision.OCTROI), Q(decision__sens=SensDecision.REFUS)

    # 1. Per month: submissions by submission month, decisions by decision month (two GROUP BY, one query each).
    mois = {m: {"mois": m, "soumises": 0, "octroyees": 0, "refusees": 0} for m in _mois_de(debut, fin)}
    for ligne in (
        DemandeAAC.objects.filter(soumises)
        .annotate(mois=TruncMonth("soumise_le"))
        .values("mois")
        .annotate(nombre=Count("id"))
        .order_by()
    ):
        mois[_date_locale(ligne["mois"])]["soumises"] = ligne["nombre"]
    for ligne in (
        DemandeAAC.objects.filter(decidees)
        .annotate(mois=TruncMonth("decidee_le"))
        .values("mois")
        .annotate(octroyees=Count("id", filter=octroi), refusees=Count("id", filter=refus))
        .order_by()
    ):
        m = mois[_date_locale(ligne["mois"])]
        m["octroyees"], m["refusees"] = ligne["octroyees"], ligne["refusees"]

    # 2. Per medicine: the référentiel's spécialité, else the name the prescriber typed (R12).
    medicament = Coalesce(
        "specialite__nom", NullIf(F("medicament_nom"), Value("")), Value(SANS_NOM), output_field=CharField()
    )
    par_medicament = list(
        DemandeAAC.objects.filter(soumises)
        .annotate(medicament=medicament)
        .values("medicament")
        .annotate(
            demandes=Count("id"),
            octroyees=Count("id", filter=Q(statut__in=[StatutDemande.OCTROYEE, StatutDemande.EXPIREE])),
            refusees=Count("id", filter=Q(statut=StatutDemande.REFUSEE)),
        )
        .order_by("-demandes", "medicament")
    )

    # 3. Decisions of the period: grants (immediate or not, R15), refusals by reason (R18), times to decision.
    jours = _jours_de_decision()
    evaluee = Q(decision__immediate=False)
    agregats = {
        "total": Count("id"),
        "octrois": Count("id", filter=octroi),
        "octrois_immediats": Count("id", filter=octroi & Q(decision__immediate=True)),
        "refus": Count("id", filter=refus),
        "median_jours": Centile(jours, fraction=0.5),
        "p90_jours": Centile(jours, fraction=0.9),
        "nombre_evalues": Count("id", filter=evaluee),
        "median_evalues_jours": Centile(jours, fraction=0.5, filter=evaluee),
        "p90_evalues_jours": Centile(jours, fraction=0.9, filter=evaluee),
    }
    for motif in MotifRefus.values:
        agregats[f"motif_{motif}"] = Count("id", filter=refus & Q(decision__motif_refus=motif))
    chiffres = DemandeAAC.objects.filter(decidees).aggregate(**agregats)

    # 4. The backlog now, by age of the submission.
    tranches = {}
    for cle, _libelle, de_jour, a_jour in TRANCHES_ATTENTE:
        condition = Q(soumise_le__lte=maintenant - datetime.timedelta(days=de_jour))
        if a_jour is not None:
            condition &= Q(soumise_le__gt=maintenant - datetime.timedelta(days=a_jour))
        tranches[cle] = Count("id", filter=condition)
    attente = DemandeAAC.objects.filter(statut__in=sorted(STATUTS_INSTRUCTION)).aggregate(
        total=Count("id"),
        urgences_vitales=Count("id", filter=Q(urgence=Urgence.VITALE)),
        plus_ancienne=Min("soumise_le"),
        **tranches,
    )

    return {
        "debut": debut,
        "fin": fin,
        "calculees_le": maintenant,
        "par_mois": list(mois.values()),
        "par_medicament": par_medicament,
        "decisions": {
            "total": chiffres["total"],
            "octrois": chiffres["octrois"],
            "octrois_immediats": chiffres["octrois_immediats"],
            "refus": chiffres["refus"],
            "part_immediats_octrois": _part(chiffres["octrois_immediats"], chiffres["octrois"]),
            "part_immediats_decisions": _part(chiffres["octrois_immediats"], chiffres["total"]),
        },
        "delais": {
            "nombre": chiffres["total"],
            "median_jours": _arrondi(chiffres["median_jours"]),
            "p90_jours": _arrondi(chiffres["p90_jours"]),
            "nombre_evalues": chiffres["nombre_evalues"],
            "median_evalues_jours": _arrondi(chiffres["median_evalues_jours"]),
            "p90_evalues_jours": _arrondi(chiffres["p90_evalues_jours"]),
        },
        "refus_par_motif": [
            {
                "motif": motif,
                "libelle": libelle,
                "nombre": chiffres[f"motif_{motif}"],
                "part": _part(chiffres[f"motif_{motif}"], chiffres["refus"]),
            }
            for motif, libelle in MotifRefus.choices
        ],
        "en_attente": {
            "total": attente["total"],
            "urgences_vitales": attente["urgences_vitales"],
            "plus_ancienne": attente["plus_ancienne"],
            "tranches": [
                {"tranche": cle, "libelle": libelle, "nombre": attente[cle]}
                for cle, libelle, _de, _a in TRANCHES_ATTENTE
            ],
        },
    }


# --- The tables behind the charts and the CSV files ------------------------------------------------------------------


def nombre_fr(valeur) -> str:
    """A figure as French readers write it: « 12,5 »; « — » when there is none."""
    if valeur is None:
        return "—"
    if isinstance(valeur, float):
        return f"{valeur:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    return str(valeur)


MOIS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def libelle_mois(mois: datetime.date) -> str:
    return f"{MOIS_FR[mois.month - 1]} {mois.year}"


def statistiques_tableaux(stats: dict) -> dict[str, dict]:
    """Each table of the statistics page, as the page shows it and its CSV gives it: {slug: {"titre",
    "entetes", "lignes"}}, values already written as text (French decimal comma)."""
    d, delais = stats["decisions"], stats["delais"]
    return {
        "par-mois": {
            "titre": "Demandes et décisions par mois",
            "entetes": ["Mois", "Demandes soumises", "AAC octroyées", "AAC refusées"],
            "lignes": [
                [
                    libelle_mois(m["mois"]),
                    nombre_fr(m["soumises"]),
                    nombre_fr(m["octroyees"]),
                    nombre_fr(m["refusees"]),
                ]
                for m in stats["par_mois"]
            ],
        },
        "par-medicament": {
            "titre": "Demandes par médicament",
            "entetes": ["Médicament", "Demandes soumises", "dont octroyées", "dont refusées"],
            "lignes": [
                [m["medicament"], nombre_fr(m["demandes"]), nombre_fr(m["octroyees"]), nombre_fr(m["refusees"])]
                for m in stats["par_medicament"]
            ],
        },
        "decisions": {
            "titre": "Décisions et octrois immédiats (R15)",
            "entetes": ["Indicateur", "Valeur"],
            "lignes": [
                ["Décisions", nombre_fr(d["total"])],
                ["AAC octroyées", nombre_fr(d["octrois"])],
                ["dont octrois immédiats (R15)", nombre_fr(d["octrois_immediats"])],
                ["AAC refusées", nombre_fr(d["refus"])],
                ["Part des octrois immédiats parmi les octrois (%)", nombre_fr(d["part_immediats_octrois"])],
                ["Part des octrois immédiats parmi les décisions (%)", nombre_fr(d["part_immediats_decisions"])],
            ],
        },
        "delais": {
            "titre": "Délai de décision (jours, de la soumission à la décision)",
            "entetes": ["Décisions", "Nombre", "Médiane (jours)", "90e centile (jours)"],
            "lignes": [
                [
                    "Toutes les décisions",
                    nombre_fr(delais["nombre"]),
                    nombre_fr(delais["median_jours"]),
                    nombre_fr(delais["p90_jours"]),
                ],
                [
                    "Décisions après évaluation (hors octrois immédiats)",
                    nombre_fr(delais["nombre_evalues"]),
                    nombre_fr(delais["median_evalues_jours"]),
                    nombre_fr(delais["p90_evalues_jours"]),
                ],
            ],
        },
        "refus-par-motif": {
            "titre": "Refus par motif (R18)",
            "entetes": ["Motif", "Refus", "Part (%)"],
            "lignes": [[m["libelle"], nombre_fr(m["nombre"]), nombre_fr(m["part"])] for m in stats["refus_par_motif"]],
        },
        "en-attente": {
            "titre": "Demandes en attente de décision, par ancienneté",
            "entetes": ["Ancienneté de la soumission", "Demandes"],
            "lignes": [[t["libelle"], nombre_fr(t["nombre"])] for t in stats["en_attente"]["tranches"]]
            + [["Total", nombre_fr(stats["en_attente"]["total"])]],
        },
    }


def statistiques_indicateurs(stats: dict) -> list[tuple[str, str]]:
    """The headline figures as (indicator, value) rows, for a summary (the monthly report of issue 6)."""
    d, delais, attente = stats["decisions"], stats["delais"], stats["en_attente"]
    return [
        ("Demandes d'AAC soumises à l'ANSM", nombre_fr(sum(m["soumises"] for m in stats["par_mois"]))),
        ("Décisions", nombre_fr(d["total"])),
        ("AAC octroyées", nombre_fr(d["octrois"])),
        ("dont octrois immédiats (R15)", nombre_fr(d["octrois_immediats"])),
        ("Part des octrois immédiats parmi les octrois (%)", nombre_fr(d["part_immediats_octrois"])),
        ("AAC refusées", nombre_fr(d["refus"])),
        ("Délai médian de décision (jours)", nombre_fr(delais["median_jours"])),
        ("Délai de décision, 90e centile (jours)", nombre_fr(delais["p90_jours"])),
        ("Demandes en attente de décision", nombre_fr(attente["total"])),
    ]
