"""Latency of the public référentiel against a floor, on 5,000 spécialités and 20,000 indications.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ad_x .venv/bin/python benchmarks/referentiel.py [base] [--reseed]

Uses its own database (`ad_refpublic_bench` by default, or the name given) on the server of DATABASE_URL, creates
and seeds it once (bulk_create + specialites_indexer), then measures in one run, through Django's test Client
with the whole middleware stack and DEBUG off:
- the floor: a minimal page in the site's layout listing 20 rows from one indexed query (defined here);
- the list page with a search and two filters, the same page without any (the référentiel's landing page), the API
  list with the search and filters, a fiche: each one cold (the page cache forgotten just before, so the request
  reads the référentiel's version, misses, builds the page and stores it: what a visitor gets after any change to a
  fiche) and warm (the same request again: a cache hit);
- as a diagnostic, the cold list page of a shape of filters seen for the first time by the process: its query
  compiled again (filters._page_compilee keeps one compiled query per shape, the search text put in by position);
- the SQL of the search alone, as the list page runs it, straight on a cursor.
The cases are measured in turn, request after request (interleaved), so that a load peak on the shared machine
hits every case alike; the load average is printed before and after. Prints median and p95 per case and each
ratio to the floor. Targets: ratio <= 3 (reported for the cold and the warm figures), search SQL p95 < 20 ms.
"""

import functools
import os
import random
import statistics
import sys
import time
from pathlib import Path

RACINE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(RACINE))

NB_SPECIALITES = 5_000
INDICATIONS_PAR_SPECIALITE = 4
ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "200"))
ECHAUFFEMENT = 20


def preparer_environnement(nom_base: str) -> None:
    from benchmarks.commun import environnement_production, preparer_bases

    preparer_bases(nom_base)
    # No throttling of the benchmark's own client.
    environnement_production(API_THROTTLE_ANON="1000000/min")


# --- Seed ----------------------------------------------------------------------------------------------------

DCI_REELLES = [
    "ibrutinib",
    "acalabrutinib",
    "zanubrutinib",
    "venetoclax",
    "pembrolizumab",
    "nivolumab",
    "atezolizumab",
    "durvalumab",
    "ipilimumab",
    "osimertinib",
    "lorlatinib",
    "selpercatinib",
    "sotorasib",
    "tisagenlecleucel",
    "onasemnogene abeparvovec",
    "nusinersen",
    "risdiplam",
    "elexacaftor",
    "ivacaftor",
    "tezacaftor",
    "maribavir",
    "letermovir",
    "remdesivir",
    "nirmatrelvir",
    "tixagevimab",
    "cilgavimab",
    "teclistamab",
    "elranatamab",
    "daratumumab",
    "isatuximab",
    "carfilzomib",
    "belantamab mafodotine",
    "polatuzumab vedotine",
    "glofitamab",
    "epcoritamab",
    "mosunetuzumab",
    "blinatumomab",
    "inotuzumab ozogamicine",
    "gilteritinib",
    "midostaurine",
    "ivosidenib",
    "enasidenib",
    "asciminib",
    "ponatinib",
    "ruxolitinib",
    "fedratinib",
    "momelotinib",
    "avapritinib",
    "ripretinib",
    "larotrectinib",
    "entrectinib",
    "capmatinib",
    "tepotinib",
    "dabrafenib",
    "trametinib",
    "encorafenib",
    "binimetinib",
    "tucatinib",
    "trastuzumab deruxtecan",
    "sacituzumab govitecan",
    "enfortumab vedotine",
    "olaparib",
    "niraparib",
    "lutetium oxodotreotide",
    "cemiplimab",
    "dostarlimab",
    "tislelizumab",
    "eculizumab",
    "ravulizumab",
    "pegcetacoplan",
    "iptacopan",
    "emicizumab",
    "efgartigimod",
    "lecanemab",
    "tofersen",
    "vosoritide",
    "burosumab",
    "asfotase alfa",
    "olipudase alfa",
    "cerliponase alfa",
]
SYLLABES = ["ba", "ce", "di", "fo", "gu", "la", "me", "ni", "po", "ra", "si", "to", "vu", "xe", "zo", "lu", "ka"]
SUFFIXES_DCI = ["mab", "tinib", "ciclib", "parib", "lisib", "rafenib", "zomib", "stat", "vir", "gene"]
# Indications are drawn within the spécialité's therapeutic area, as in the real référentiel (a haematology
# product has haematology indications), so that a word like "lymphome" matches a plausible share of fiches.
MALADIES = {
    "hematologie": [
        "Lymphome à cellules du manteau",
        "Lymphome diffus à grandes cellules B",
        "Lymphome folliculaire",
        "Leucémie lymphoïde chronique",
        "Leucémie aiguë myéloïde avec mutation FLT3",
        "Leucémie aiguë lymphoblastique",
        "Myélome multiple",
        "Hémoglobinurie paroxystique nocturne",
        "Myélofibrose primitive",
        "Hémophilie A sévère",
        "Drépanocytose",
        "Thrombopénie immunologique",
    ],
    "oncologie": [
        "Cancer bronchique non à petites cellules avec mutation EGFR",
        "Cancer bronchique avec réarrangement ALK",
        "Mélanome avancé non résécable",
        "Carcinome urothélial localement avancé",
        "Tumeur stromale gastro-intestinale",
        "Cancer du sein HER2 positif métastatique",
        "Cancer de l'ovaire avec mutation BRCA",
        "Carcinome hépatocellulaire",
        "Cancer colorectal métastatique avec mutation BRAF",
        "Glioblastome",
        "Sarcome des tissus mous",
        "Cancer de la thyroïde avec fusion RET",
    ],
    "neurologie": [
        "Amyotrophie spinale",
        "Myasthénie auto-immune généralisée",
        "Sclérose latérale amyotrophique",
        "Céroïde-lipofuscinose neuronale",
        "Maladie d'Alzheimer au stade précoce",
        "Neuromyélite optique",
        "Épilepsie pharmacorésistante",
        "Dystrophie musculaire de Duchenne",
    ],
    "infectiologie": [
        "Infection à cytomégalovirus réfractaire",
        "Infection à virus respiratoire syncytial",
        "COVID-19 chez le patient immunodéprimé",
        "Hépatite B chronique",
        "Aspergillose invasive",
        "Tuberculose multirésistante",
        "Infection à bactérie multirésistante",
    ],
    "maladies_metaboliques": [
        "Hypophosphatasie",
        "Achondroplasie",
        "Maladie de Niemann-Pick",
        "Maladie de Fabry",
        "Maladie de Pompe",
        "Hypophosphatémie liée à l'X",
        "Phénylcétonurie",
    ],
    "pneumologie": [
        "Mucoviscidose",
        "Fibrose pulmonaire idiopathique",
        "Hypertension artérielle pulmonaire",
        "Asthme sévère éosinophilique",
        "Déficit en alpha-1 antitrypsine",
    ],
}
QUALIFICATIFS = [
    "en rechute après au moins deux lignes de traitement",
    "réfractaire aux traitements disponibles",
    "chez l'adulte non éligible à une greffe",
    "chez l'enfant de plus de 2 ans",
    "en situation d'impasse thérapeutique",
    "traité à l'hôpital de jour",
    "en première ligne chez le sujet âgé",
    "après échec d'un inhibiteur de tyrosine kinase",
]
AIRES = list(MALADIES)


def _mot(alea: random.Random, n: int) -> str:
    return "".join(alea.choice(SYLLABES) for _ in range(n))


def semer() -> None:
    import datetime

    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.text import slugify

    from referentiel.models import (
        PUT,
        AccesDerogatoire,
        Composition,
        CritereOctroi,
        Indication,
        Laboratoire,
        Specialite,
        Substance,
    )
    from referentiel.services import specialites_indexer

    alea = random.Random(42)
    debut = time.perf_counter()
    with transaction.atomic():
        laboratoires = Laboratoire.objects.bulk_create(
            [Laboratoire(nom=f"Laboratoires {_mot(alea, 3).capitalize()} {i}", est_titulaire=True) for i in range(150)]
        )
        noms_dci = list(dict.fromkeys(DCI_REELLES + [_mot(alea, 3) + alea.choice(SUFFIXES_DCI) for _ in range(1500)]))
        substances = Substance.objects.bulk_create([Substance(dci=dci) for dci in noms_dci])
        maintenant = timezone.now()
        specialites = []
        for i in range(NB_SPECIALITES):
            dosage = alea.choice([5, 10, 20, 40, 100, 140])
            forme = alea.choice(["comprimé", "gélule", "solution injectable"])
            nom = f"{_mot(alea, 3).upper()}{i} {dosage} mg, {forme}"
            specialites.append(
                Specialite(
                    nom=nom,
                    slug=slugify(nom)[:110],
                    titulaire=alea.choice(laboratoires),
                    exploitant=alea.choice(laboratoires) if alea.random() < 0.3 else None,
                    aire_therapeutique=alea.choice(AIRES),
                    mitm=alea.random() < 0.1,
                    forme_pharmaceutique="comprimé",
                    voies_administration="orale",
                    mis_a_jour_le=maintenant - datetime.timedelta(days=alea.randint(0, 700)),
                )
            )
        specialites = Specialite.objects.bulk_create(specialites, batch_size=2000)
        aires = {sp.pk: sp.aire_therapeutique for sp in specialites}
        compositions = []
        for sp in specialites:
            for substance in alea.sample(substances, alea.choice([1, 1, 1, 2])):
                compositions.append(Composition(specialite=sp, substance=substance, dosage="10 mg"))
        Composition.objects.bulk_create(compositions, batch_size=5000)

        historiques, acces = [], []
        for sp in specialites:
            tirage = alea.random()
            if tirage < 0.2:
                historiques.append(
                    AccesDerogatoire(
                        specialite=sp,
                        type_acces="ATUn",
                        etat="termine",
                        date_debut=datetime.date(2019, 1, 1),
                        date_fin=datetime.date(2021, 6, 30),
                    )
                )
            type_acces = "AAC" if tirage < 0.55 else "AAP" if tirage < 0.75 else "CPC" if tirage < 0.9 else "RTU"
            acces.append(
                AccesDerogatoire(
                    specialite=sp,
                    type_acces=type_acces,
                    etat="termine" if type_acces == "RTU" else alea.choice(["en_cours"] * 8 + ["suspendu", "termine"]),
                    date_debut=datetime.date(2021, 7, 1) + datetime.timedelta(days=alea.randint(0, 1200)),
                    phase_aap="pre_amm" if type_acces == "AAP" else "",
                    etape_cpc="publie" if type_acces == "CPC" else "",
                )
            )
        historiques = AccesDerogatoire.objects.bulk_create(historiques, batch_size=5000)
        precedents = {a.specialite_id: a for a in historiques}
        for a in acces:
            a.precedent = precedents.get(a.specialite_id)
        acces = AccesDerogatoire.objects.bulk_create(acces, batch_size=5000)

        indications = []
        for a in acces:
            for ordre in range(INDICATIONS_PAR_SPECIALITE):
                indications.append(
                    Indication(
                        acces=a,
                        libelle=f"{alea.choice(MALADIES[aires[a.specialite_id]])} {alea.choice(QUALIFICATIFS)}",
                        patients_eligibles="Patients adultes en bon état général (ECOG 0 à 2).",
                        ordre=ordre,
                    )
                )
        indications = Indication.objects.bulk_create(indications, batch_size=5000)
        CritereOctroi.objects.bulk_create(
            [
                CritereOctroi(indication=ind, libelle=f"Le patient remplit la condition {n}", ordre=n)
                for ind in indications
                for n in range(2)
            ],
            batch_size=10000,
        )
        PUT.objects.bulk_create(
            [
                PUT(
                    acces=a,
                    type_put="PUT-RD" if a.type_acces == "AAP" else "PUT-SP",
                    recueil_nominatif=alea.random() < 0.5,
                    crpv="CRPV de Lyon",
                )
                for a in acces
                if alea.random() < 0.6
            ],
            batch_size=5000,
        )
        specialites_indexer(ids=[sp.pk for sp in specialites])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"Semis : {len(specialites)} spécialités, {len(indications)} indications, {len(acces) + len(historiques)} "
        f"accès en {time.perf_counter() - debut:.1f} s (bulk_create + specialites_indexer)."
    )


# --- The floor: same server, same layout, one indexed query ---------------------------------------------------

GABARIT_PLANCHER = """{% extends "base.html" %}
{% block main %}<h1>Plancher</h1>
<table><tbody>{% for nom, slug in lignes %}<tr><td><a href="/referentiel/{{ slug }}/">{{ nom }}</a></td></tr>
{% endfor %}</tbody></table>{% endblock main %}"""


def plancher(request):
    """20 rows from one query on the name index, rendered in the site's base layout."""
    from django.http import HttpResponse
    from django.template import engines

    from referentiel.models import Specialite

    lignes = list(Specialite.objects.order_by("nom").values_list("nom", "slug")[:20])
    gabarit = engines["django"].from_string(GABARIT_PLANCHER)
    return HttpResponse(gabarit.render({"lignes": lignes, "title": "Plancher"}, request))


def plancher_json(request):
    """The same 20 rows as bare JSON (no layout): the stack's own cost, for reference."""
    from django.http import JsonResponse

    from referentiel.models import Specialite

    return JsonResponse({"lignes": list(Specialite.objects.order_by("nom").values_list("nom", "slug")[:20])})


def _urlpatterns():
    from django.urls import include, path

    return [
        path("banc/plancher/", plancher),
        path("banc/plancher.json", plancher_json),
        path("", include("config.urls")),
    ]


# --- Measures ------------------------------------------------------------------------------------------------


def _percentiles(durees: list[float]) -> tuple[float, float]:
    durees = sorted(durees)
    return statistics.median(durees), durees[min(len(durees) - 1, int(round(0.95 * (len(durees) - 1))))]


def mesurer(client, cas: dict) -> dict[str, tuple[float, float]]:
    """Median and p95 (ms) of each case, measured in turn request after request. A case is (URLs, headers, cold):
    cold forgets the page cache (selectors.pages_en_cache_oublier, untimed) just before its request; the warm case
    that follows asks the same URL again."""
    from referentiel import filters, selectors

    durees = {nom: [] for nom in cas}
    for i in range(ECHAUFFEMENT + ITERATIONS):
        for nom, (urls, entetes, froid) in cas.items():
            url = urls[i % len(urls)]
            if froid:
                selectors.pages_en_cache_oublier()
            compilees = filters._compiler_page
            if froid == "forme nouvelle":  # an empty cache of compiled queries for this request only
                filters._compiler_page = functools.lru_cache(maxsize=1)(compilees.__wrapped__)
            debut = time.perf_counter()
            reponse = client.get(url, **entetes)
            filters._compiler_page = compilees
            if reponse.streaming:
                b"".join(reponse.streaming_content)
            duree = (time.perf_counter() - debut) * 1000
            assert reponse.status_code == 200, (url, reponse.status_code)
            if i >= ECHAUFFEMENT:
                durees[nom].append(duree)
    return {nom: _percentiles(valeurs) for nom, valeurs in durees.items()}


def mesurer_sql_recherche(requetes: list[dict]) -> tuple[float, float]:
    """The search's own SQL, as the list page runs it (filters.page_du_referentiel: the exact search's page with
    its total, and only when it is empty, whether the exact search matches anything, then the approximate page),
    captured once per search and then timed on a cursor."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from referentiel.filters import filtres_du_referentiel, page_du_referentiel

    instructions = []
    for donnees in requetes:
        with CaptureQueriesContext(connection) as capture:
            page_du_referentiel(filtres_du_referentiel(donnees), numero=1, par_page=20)
        instructions.append([requete["sql"] for requete in capture.captured_queries])
    durees = []
    with connection.cursor() as cursor:
        for i in range(ECHAUFFEMENT + ITERATIONS):
            debut = time.perf_counter()
            for sql in instructions[i % len(instructions)]:
                cursor.execute(sql)
                cursor.fetchall()
            if i >= ECHAUFFEMENT:
                durees.append((time.perf_counter() - debut) * 1000)
    return _percentiles(durees)


def charge() -> str:
    return " / ".join(f"{valeur:.2f}" for valeur in os.getloadavg())


def main() -> None:
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    preparer_environnement(arguments[0] if arguments else "ad_refpublic_bench")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    from referentiel.models import Specialite

    call_command("migrate", verbosity=0)
    if "--reseed" in sys.argv or Specialite.objects.count() < NB_SPECIALITES:
        from referentiel.models import Laboratoire, Substance

        Specialite.objects.all().delete()
        Laboratoire.objects.all().delete()
        Substance.objects.all().delete()
        semer()

    module = type(sys)("banc_urls")
    module.urlpatterns = _urlpatterns()
    sys.modules["banc_urls"] = module
    stockage = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    recherches = ["lymphome", "leucemies", "ibrutinibe", "hopital", "myelome multiple"]
    filtres = "&type_acces=AAC&etat=en_cours"
    urls_liste = [f"/referentiel/?q={q.replace(' ', '+')}{filtres}" for q in recherches]
    urls_api = [f"/api/v1/specialites/?q={q.replace(' ', '+')}{filtres}" for q in recherches]
    slugs = list(
        Specialite.objects.filter(acces__type_acces="AAC", acces__precedent__isnull=False)
        .order_by("id")
        .values_list("slug", flat=True)[:50]
    )
    urls_fiche = [f"/referentiel/{slug}/" for slug in slugs]

    charge_avant = charge()
    with override_settings(ROOT_URLCONF="banc_urls", STORAGES=stockage):
        client = Client()
        json = {"HTTP_ACCEPT": "application/json"}
        mesures = mesurer(
            client,
            {
                "plancher (page, 20 lignes)": (["/banc/plancher/"], {}, False),
                "plancher JSON (référence)": (["/banc/plancher.json"], {}, False),
                "liste : recherche + 2 filtres, à froid": (urls_liste, {}, True),
                "liste : la même, en cache": (urls_liste, {}, False),
                "liste : même requête, forme nouvelle (diag.)": (urls_liste, {}, "forme nouvelle"),
                "liste : sans critère (accueil), à froid": (["/referentiel/"], {}, True),
                "API liste : même requête, à froid": (urls_api, json, True),
                "API liste : la même, en cache": (urls_api, json, False),
                "fiche (AAC avec ATU, 4 indications), à froid": (urls_fiche, {}, True),
                "fiche : la même, en cache": (urls_fiche, {}, False),
            },
        )
        sql = mesurer_sql_recherche([{"q": q, "type_acces": ["AAC"], "etat": ["en_cours"]} for q in recherches])
    charge_apres = charge()

    base_med, base_p95 = mesures["plancher (page, 20 lignes)"]
    print(
        f"\n{Specialite.objects.count()} spécialités, {ITERATIONS} requêtes par cas, cas entrelacés (Client de test, "
        f"DEBUG=false, cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]})"
    )
    print(f"Charge de la machine (1 / 5 / 15 min) avant : {charge_avant}, après : {charge_apres}")
    print(f"{'cas':46} {'médiane':>9} {'p95':>9} {'ratio méd.':>11} {'ratio p95':>10}")
    for nom, (med, p95) in mesures.items():
        print(f"{nom:46} {med:8.2f}ms {p95:8.2f}ms {med / base_med:10.2f}x {p95 / base_p95:9.2f}x")
    print(
        f"\nSQL de la recherche seule (q + type AAC + état en cours) : médiane {sql[0]:6.2f} ms, p95 {sql[1]:6.2f} ms"
    )
    for libelle, suffixes in (("à froid", ("à froid",)), ("en cache", ("en cache",))):
        ratios = {nom.rsplit(", ", 1)[0]: mesures[nom][0] / base_med for nom in mesures if nom.endswith(suffixes)}
        pire = max(ratios.values())
        detail = " ; ".join(f"{nom} {ratio:.2f}x" for nom, ratio in ratios.items())
        print(f"Objectif ratio <= 3, {libelle} : {'atteint' if pire <= 3 else 'MANQUÉ'} ({detail})")
    print(f"Objectif SQL de recherche p95 < 20 ms : {'atteint' if sql[1] < 20 else 'MANQUÉ'} ({sql[1]:.2f} ms)")


if __name__ == "__main__":
    main()
