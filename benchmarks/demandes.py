"""Latency of "Mes demandes" and of the PUI inbox on 200,000 AAC requests, and throughput of submit -> grant
transitions with 8 concurrent clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ad_x .venv/bin/python benchmarks/demandes.py [base] [--reseed]

Uses its own database (`ad_demandes_bench` by default, or the name given) on the server of DATABASE_URL, creates,
migrates and seeds it once (users with bulk_create, 200,000 requests, their decisions and 3 journal rows each
with PostgreSQL COPY), then measures in one run:
- the pages through Django's test Client (whole middleware stack, DEBUG off, a logged-in user): "Mes demandes"
  of a typical prescriber (~100 requests) and of a heavy one (5,000), the PUI inbox ("à traiter" and "toutes")
  of a typical PUI (~1,000 requests) and of a heavy one (20,000); median and p95, and the number of queries of
  each page, which must not depend on the number of rows (target: p95 < 50 ms);
- the submit -> grant workflow: 8 threads, each with its own database connection, take requests from a shared
  queue in which every request appears twice (so that two clients regularly act on the same row at the same
  time); per request: the pharmacist submits, the évaluateur grants (PDF included). Prints requests and
  transitions per second, the conflicts refused, and checks that no journal event is lost or doubled.
"""

import os
import queue
import random
import statistics
import sys
import threading
import time
from pathlib import Path

RACINE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(RACINE))

NB_DEMANDES = 200_000
NB_ETABLISSEMENTS = 100
PUI_PAR_ETABLISSEMENT = 2
PRESCRIPTEURS_PAR_ETABLISSEMENT = 20
NB_SPECIALITES = 300
GROS_PRESCRIPTEUR = 5_000  # requests of the heaviest prescriber
GROSSE_PUI = 20_000  # requests of the heaviest PUI
ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "200"))
ECHAUFFEMENT = 20
CLIENTS = 8
DEMANDES_DEBIT = int(os.environ.get("BENCH_DEMANDES_DEBIT", "800"))


def preparer_environnement(nom_base: str) -> None:
    from benchmarks.commun import environnement_production, preparer_bases

    preparer_bases(nom_base)
    environnement_production(fichiers="banc-demandes-", DB_CONN_MAX_AGE="0")


# --- Seed ----------------------------------------------------------------------------------------------------

# State mix of a year of requests: most are decided; a few are in progress.
ETATS = [
    ("octroyee", 0.66),
    ("expiree", 0.10),
    ("refusee", 0.05),
    ("brouillon", 0.05),
    ("annulee", 0.03),
    ("transmise_pharmacien", 0.04),
    ("renvoyee", 0.01),
    ("en_evaluation", 0.04),
    ("complement_demande", 0.01),
    ("complement_fourni", 0.01),
]
COLONNES_DEMANDE = [
    "reference",
    "statut",
    "version",
    "prescripteur_id",
    "etablissement_id",
    "pui_id",
    "patient_initiales",
    "patient_age",
    "patient_age_unite",
    "patient_sexe",
    "patient_poids_kg",
    "territoire",
    "situation",
    "type_medicament",
    "specialite_id",
    "indication_id",
    "indication_libre",
    "medicament_nom",
    "medicament_dci",
    "medicament_dosage",
    "medicament_forme",
    "medicament_laboratoire",
    "justification",
    "patient_non_eligible_aap",
    "engagement_information_patient",
    "medecin_traitant_informe",
    "engagement_surveillance",
    "engagement_put_pharmacovigilance",
    "engagement_reponse_ansm",
    "posologie",
    "duree_traitement_jours",
    "recherches_commerciales",
    "traitement_differable",
    "urgence",
    "astreinte_contactee",
    "hors_heures",
    "regularisation_a_posteriori",
    "donnees_cliniques_periode",
    "declaration_poursuite",
    "cree_le",
    "modifiee_le",
    "transmise_le",
    "soumise_le",
    "decidee_le",
]


def semer() -> None:
    import datetime

    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.text import slugify

    from comptes.demo import avec_cle_luhn
    from comptes.models import PUI, Etablissement, Utilisateur
    from referentiel.models import AccesDerogatoire, CritereOctroi, Indication, Laboratoire, Specialite

    alea = random.Random(7)
    debut = time.perf_counter()
    mot_de_passe = make_password("banc-de-mesure-demandes")
    with transaction.atomic():
        laboratoires = Laboratoire.objects.bulk_create(
            [Laboratoire(nom=f"Laboratoire du banc {i}", est_titulaire=True, est_exploitant=True) for i in range(40)]
        )
        specialites = Specialite.objects.bulk_create(
            [
                Specialite(
                    nom=f"BANCMAB{i} {alea.choice([10, 20, 50])} mg, solution injectable",
                    slug=slugify(f"bancmab{i}-solution"),
                    titulaire=alea.choice(laboratoires),
                    forme_pharmaceutique="solution injectable",
                    reserve_hospitalier=True,
                )
                for i in range(NB_SPECIALITES)
            ]
        )
        acces = AccesDerogatoire.objects.bulk_create(
            [
                AccesDerogatoire(specialite=sp, type_acces="AAC", date_debut=datetime.date(2024, 1, 1))
                for sp in specialites
            ]
        )
        indications = Indication.objects.bulk_create(
            [Indication(acces=a, libelle=f"Maladie rare du banc n° {a.pk}") for a in acces]
        )
        CritereOctroi.objects.bulk_create(
            [CritereOctroi(indication=i, libelle=f"Condition {n}", ordre=n) for i in indications for n in range(2)]
        )
        etablissements = Etablissement.objects.bulk_create(
            [
                Etablissement(finess=avec_cle_luhn(f"75{i:06d}"), nom=f"Centre hospitalier du banc {i}")
                for i in range(NB_ETABLISSEMENTS)
            ]
        )
        puis = PUI.objects.bulk_create(
            [
                PUI(etablissement=e, nom=f"PUI {n}", email=f"pui{e.pk}-{n}@banc.example")
                for e in etablissements
                for n in range(PUI_PAR_ETABLISSEMENT)
            ]
        )
        utilisateurs, n = [], 0
        for e in etablissements:
            for _ in range(PRESCRIPTEURS_PAR_ETABLISSEMENT):
                n += 1
                utilisateurs.append(
                    Utilisateur(
                        email=f"prescripteur{n}@banc.example",
                        role="prescripteur",
                        prenom="Presc",
                        nom=f"N{n}",
                        rpps=avec_cle_luhn(f"1{n:09d}"),
                        etablissement=e,
                        password=mot_de_passe,
                    )
                )
        for p in puis:
            for _ in range(2):
                n += 1
                utilisateurs.append(
                    Utilisateur(
                        email=f"pharmacien{n}@banc.example",
                        role="pharmacien",
                        prenom="Pharma",
                        nom=f"N{n}",
                        rpps=avec_cle_luhn(f"2{n:09d}"),
                        etablissement_id=p.etablissement_id,
                        pui=p,
                        password=mot_de_passe,
                    )
                )
        for i in range(20):
            utilisateurs.append(
                Utilisateur(email=f"evaluateur{i}@banc.example", role="evaluateur", password=mot_de_passe)
            )
        Utilisateur.objects.bulk_create(utilisateurs, batch_size=2000)

    prescripteurs = list(Utilisateur.objects.filter(role="prescripteur").values_list("pk", "etablissement_id"))
    puis_par_etablissement = {}
    for pui_id, etablissement_id in PUI.objects.values_list("pk", "etablissement_id"):
        puis_par_etablissement.setdefault(etablissement_id, []).append(pui_id)
    indication_de = dict(Indication.objects.values_list("acces__specialite_id", "pk"))
    specialite_ids = list(indication_de)
    lab_de = dict(Specialite.objects.values_list("pk", "titulaire_id"))
    # The heaviest prescriber and PUI (same establishment): their lists are measured apart.
    gros_prescripteur, gros_etablissement = prescripteurs[0]
    grosse_pui = puis_par_etablissement[gros_etablissement][0]

    maintenant = timezone.now()
    etats, poids = zip(*ETATS, strict=True)
    decisions_a_creer = []
    journal_a_creer = []
    with transaction.atomic(), connection.cursor() as cursor:
        colonnes = ", ".join(COLONNES_DEMANDE)
        with cursor.copy(f"COPY demandes_demandeaac ({colonnes}) FROM STDIN") as copie:
            for i in range(NB_DEMANDES):
                if i < GROS_PRESCRIPTEUR:
                    prescripteur, etablissement = gros_prescripteur, gros_etablissement
                else:
                    prescripteur, etablissement = prescripteurs[1 + i % (len(prescripteurs) - 1)]
                pui = grosse_pui if i < GROSSE_PUI else alea.choice(puis_par_etablissement[etablissement])
                statut = alea.choices(etats, poids)[0]
                cree = maintenant - datetime.timedelta(minutes=alea.randint(60, 2 * 365 * 24 * 60))
                transmise = cree + datetime.timedelta(hours=2) if statut not in ("brouillon",) else None
                if statut == "annulee" and alea.random() < 0.5:
                    transmise = None
                soumise = (
                    transmise + datetime.timedelta(hours=3)
                    if statut
                    in ("en_evaluation", "complement_demande", "complement_fourni", "octroyee", "refusee", "expiree")
                    else None
                )
                decidee = (
                    soumise + datetime.timedelta(days=alea.randint(0, 10))
                    if statut
                    in (
                        "octroyee",
                        "refusee",
                        "expiree",
                    )
                    else None
                )
                modifiee = decidee or soumise or transmise or cree
                specialite = alea.choice(specialite_ids)
                copie.write_row(
                    (
                        f"D-{cree:%Y}-{i + 1:06d}",
                        statut,
                        3,
                        prescripteur,
                        etablissement,
                        pui,
                        "J.-D.",
                        alea.randint(1, 90),
                        "ans",
                        alea.choice("FM"),
                        "62.5",
                        "metropole",
                        "soin",
                        "reference_indication",
                        specialite,
                        indication_de[specialite],
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        False,
                        True,
                        True,
                        True,
                        True,
                        True,
                        "1 injection par semaine",
                        alea.choice([30, 90, 180, 365]),
                        "",
                        False,
                        "vitale" if alea.random() < 0.03 else "normale",
                        False,
                        False,
                        False,
                        "",
                        False,
                        cree,
                        modifiee,
                        transmise,
                        soumise,
                        decidee,
                    )
                )
        cursor.execute(
            "SELECT id, statut, cree_le, transmise_le, soumise_le, decidee_le, specialite_id FROM demandes_demandeaac"
        )
        lignes = cursor.fetchall()
        for pk, statut, cree, transmise, soumise, decidee, specialite in lignes:
            journal_a_creer.append((pk, "creer", "", "brouillon", "prescripteur", cree))
            if transmise:
                journal_a_creer.append(
                    (pk, "transmettre", "brouillon", "transmise_pharmacien", "prescripteur", transmise)
                )
            if soumise:
                journal_a_creer.append(
                    (pk, "soumettre", "transmise_pharmacien", "en_evaluation", "pharmacien", soumise)
                )
            if decidee:
                octroi = statut != "refusee"
                journal_a_creer.append(
                    (
                        pk,
                        "octroyer" if octroi else "refuser",
                        "en_evaluation",
                        "octroyee" if octroi else "refusee",
                        "evaluateur",
                        decidee,
                    )
                )
                debut_traitement = decidee.date()
                decisions_a_creer.append(
                    (
                        pk,
                        "octroi" if octroi else "refus",
                        f"DEC-{decidee:%Y}-{pk:07d}",
                        f"AAC-{decidee:%Y}-{pk:07d}" if octroi else None,
                        False,
                        decidee,
                        90 if octroi else None,
                        debut_traitement if octroi else None,
                        debut_traitement + datetime.timedelta(days=89) if octroi else None,
                        lab_de[specialite] if octroi else None,
                        octroi,
                        "",
                        False,
                        "" if octroi else "donnees_insuffisantes",
                        "",
                        "",
                        "",
                        decidee,
                        debut_traitement + datetime.timedelta(days=61),
                    )
                )
        with cursor.copy(
            "COPY demandes_journaldemande "
            "(demande_id, transition, statut_avant, statut_apres, role, le, commentaire, details) FROM STDIN"
        ) as copie:
            for ligne in journal_a_creer:
                copie.write_row((*ligne, "", "{}"))
        with cursor.copy(
            "COPY demandes_decision (demande_id, sens, reference, numero_aac, immediate, date_decision, duree_jours, "
            "date_debut, date_fin_traitement, laboratoire_id, reserve_hospitalier, restriction_prescripteurs, "
            "retrocession, motif_refus, motif_refus_texte, commentaire, fichier, notifiee_le, date_limite_recours) "
            "FROM STDIN"
        ) as copie:
            for ligne in decisions_a_creer:
                copie.write_row(ligne)
        # Numbers issued from now on follow the seeded ones.
        cursor.execute("SELECT setval('demandes_reference_seq', %s)", [NB_DEMANDES + 1])
        cursor.execute("SELECT setval('demandes_decision_seq', (SELECT max(id) FROM demandes_demandeaac) + 1)")
        cursor.execute("SELECT setval('demandes_numero_aac_seq', (SELECT max(id) FROM demandes_demandeaac) + 1)")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    resume = (
        f"Semis : {NB_DEMANDES:,} demandes, {len(decisions_a_creer):,} décisions, {len(journal_a_creer):,} "
        f"événements de journal, {len(utilisateurs):,} comptes en {time.perf_counter() - debut:.1f} s "
        "(bulk_create + COPY)."
    )
    print(resume.replace(",", " "))


# --- Latency of the lists ---------------------------------------------------------------------------------------


def mesurer_page(client, url: str) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(ECHAUFFEMENT):
        reponse = client.get(url)
        assert reponse.status_code == 200, (url, reponse.status_code)
    with CaptureQueriesContext(connection) as requetes:
        client.get(url)
    nombre_requetes = len(requetes.captured_queries)  # read now: the next request clears the query log
    durees = []
    for _ in range(ITERATIONS):
        debut = time.perf_counter()
        reponse = client.get(url)
        durees.append((time.perf_counter() - debut) * 1000)
        assert reponse.status_code == 200
    return durees, nombre_requetes


def p95(valeurs: list[float]) -> float:
    return statistics.quantiles(valeurs, n=100)[94]


def mesurer_listes() -> bool:
    from django.db.models import Count
    from django.test import Client

    from comptes.models import Utilisateur
    from demandes.models import DemandeAAC

    par_prescripteur = (
        DemandeAAC.objects.values("prescripteur")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("prescripteur", "n")
    )
    gros_prescripteur, n_gros = par_prescripteur[0]
    typique_prescripteur, n_typique = par_prescripteur[len(par_prescripteur) // 2]
    par_pui = (
        DemandeAAC.objects.filter(transmise_le__isnull=False).values("pui").annotate(n=Count("id")).order_by("-n")
    )
    par_pui = list(par_pui.values_list("pui", "n"))
    grosse_pui, n_grosse = par_pui[0]
    pui_typique, n_pui = par_pui[len(par_pui) // 2]

    cas = []
    for libelle, utilisateur_id, url in [
        (f"Mes demandes — prescripteur typique ({n_typique} demandes)", typique_prescripteur, "/demandes/"),
        (f"Mes demandes — gros prescripteur ({n_gros} demandes)", gros_prescripteur, "/demandes/"),
        ("Mes demandes — gros prescripteur, filtre état", gros_prescripteur, "/demandes/?statut=octroyee"),
        ("Mes demandes — gros prescripteur, page 100", gros_prescripteur, "/demandes/?page=100"),
    ]:
        cas.append((libelle, Utilisateur.objects.get(pk=utilisateur_id), url))
    for libelle, pui_id, n in [("PUI typique", pui_typique, n_pui), ("grosse PUI", grosse_pui, n_grosse)]:
        pharmacien = Utilisateur.objects.filter(role="pharmacien", pui_id=pui_id).first()
        cas.append((f"Boîte PUI « à traiter » — {libelle} ({n} demandes)", pharmacien, "/demandes/pui/"))
        cas.append((f"Boîte PUI « toutes » — {libelle} ({n} demandes)", pharmacien, "/demandes/pui/?onglet=toutes"))

    print(f"\nLatence des listes ({ITERATIONS} requêtes par cas, client de test Django, DEBUG=false) :")
    print(f"{'cas':<66} {'médiane':>9} {'p95':>9} {'requêtes':>9}")
    ok = True
    requetes_par_page = {}
    for libelle, utilisateur, url in cas:
        client = Client()
        client.force_login(utilisateur)
        durees, nb_requetes = mesurer_page(client, url)
        requetes_par_page.setdefault(url.split("?")[0], set()).add(nb_requetes)
        valeur_p95 = p95(durees)
        ok &= valeur_p95 < 50
        print(f"{libelle:<66} {statistics.median(durees):>7.1f}ms {valeur_p95:>7.1f}ms {nb_requetes:>9}")
    mesurer_sql(cas)
    constant = all(len(v) == 1 for v in requetes_par_page.values())
    print(
        f"Nombre de requêtes SQL par page identique quel que soit le volume : {'oui' if constant else 'NON'} "
        f"({ {k: sorted(v) for k, v in requetes_par_page.items()} })"
    )
    print(f"Objectif p95 < 50 ms : {'atteint' if ok else 'NON ATTEINT'}")
    return ok and constant


def mesurer_sql(cas) -> None:
    """The lists' own SQL (count + one page of rows through the selectors), without HTTP or templates."""
    from demandes import selectors

    print(f"\n{'SQL seule (count + page de 20) :':<66} {'médiane':>9} {'p95':>9}")
    for libelle, utilisateur, url in cas:
        if utilisateur.role == "prescripteur":
            requete = selectors.demandes_recentes(utilisateur)
            if "statut=" in url:
                requete = requete.filter(statut="octroyee")
        else:
            requete = selectors.boite_pui(utilisateur, onglet="toutes" if "toutes" in url else "a_traiter")
        debut_page = 20 * 99 if "page=100" in url else 0
        durees = []
        for _ in range(ITERATIONS):
            debut = time.perf_counter()
            requete.count()
            list(requete[debut_page : debut_page + 20])
            durees.append((time.perf_counter() - debut) * 1000)
        print(f"{libelle:<66} {statistics.median(durees):>7.1f}ms {p95(durees):>7.1f}ms")
    print()


# --- Throughput of submit -> grant -------------------------------------------------------------------------------


def preparer_debit(nombre: int) -> list[int]:
    """`nombre` requests transmitted to their PUI, with a criterion attested "non" (so they are evaluated, not
    granted at once) and their attestations, ready for the pharmacist."""
    from django.db import transaction
    from django.utils import timezone

    from comptes.models import Utilisateur
    from demandes.models import AttestationCritere, DemandeAAC
    from referentiel.models import CritereOctroi

    prescripteurs = list(Utilisateur.objects.filter(role="prescripteur").select_related("etablissement")[:50])
    indications = {}
    for critere in CritereOctroi.objects.select_related("indication__acces").order_by("indication_id", "ordre")[:200]:
        indications.setdefault(critere.indication, []).append(critere)
    choix = list(indications.items())
    puis = {}
    for pharmacien in Utilisateur.objects.filter(
        role="pharmacien", pui__etablissement__in=[p.etablissement for p in prescripteurs]
    ):
        puis.setdefault(pharmacien.etablissement_id, pharmacien.pui_id)
    maintenant = timezone.now()
    demandes = []
    with transaction.atomic():
        depart = DemandeAAC.objects.order_by("-id").values_list("id", flat=True).first()
        for i in range(nombre):
            prescripteur = prescripteurs[i % len(prescripteurs)]
            indication, _ = choix[i % len(choix)]
            demandes.append(
                DemandeAAC(
                    reference=f"D-BANC-{depart + i + 1:07d}",
                    statut="transmise_pharmacien",
                    prescripteur=prescripteur,
                    etablissement=prescripteur.etablissement,
                    pui_id=puis[prescripteur.etablissement_id],
                    patient_initiales="A.B.",
                    patient_age=40,
                    patient_sexe="F",
                    patient_poids_kg=60,
                    specialite_id=indication.acces.specialite_id,
                    indication=indication,
                    justification="Critère 2 non rempli ; pas d'alternative appropriée.",
                    engagement_information_patient=True,
                    engagement_surveillance=True,
                    engagement_put_pharmacovigilance=True,
                    engagement_reponse_ansm=True,
                    posologie="1 injection par semaine",
                    duree_traitement_jours=90,
                    traitement_differable=False,
                    cree_le=maintenant,
                    modifiee_le=maintenant,
                    transmise_le=maintenant,
                )
            )
        demandes = DemandeAAC.objects.bulk_create(demandes)
        AttestationCritere.objects.bulk_create(
            [
                AttestationCritere(demande=d, critere=c, rempli=n == 0)
                for d in demandes
                for n, c in enumerate(indications[d.indication])
            ]
        )
    return [d.pk for d in demandes]


def mesurer_debit() -> bool:
    from django.db import connection
    from django.db.models import Count

    from comptes.models import Utilisateur
    from demandes import services
    from demandes.exceptions import ConflitEtat
    from demandes.models import Decision, DemandeAAC, JournalDemande

    ids = preparer_debit(DEMANDES_DEBIT)
    evaluateurs = list(Utilisateur.objects.filter(role="evaluateur"))
    pharmacien_de = {}
    for d in DemandeAAC.objects.filter(pk__in=ids).values("pk", "pui_id"):
        pharmacien_de[d["pk"]] = d["pui_id"]
    pharmaciens = {}
    for p in Utilisateur.objects.filter(role="pharmacien", pui_id__in=set(pharmacien_de.values())):
        pharmaciens.setdefault(p.pui_id, p)
    file = queue.Queue()
    ordre = [pk for pk in ids for _ in range(2)]  # each request twice: two clients race on the same row
    random.Random(3).shuffle(ordre)
    for pk in ordre:
        file.put(pk)
    compteurs = {"soumises": 0, "octroyees": 0, "conflits": 0, "erreurs": 0}
    verrou = threading.Lock()

    def client(numero: int) -> None:
        evaluateur = evaluateurs[numero % len(evaluateurs)]
        try:
            while True:
                try:
                    pk = file.get_nowait()
                except queue.Empty:
                    return
                demande = DemandeAAC(pk=pk)
                try:
                    version = DemandeAAC.objects.values_list("version", flat=True).get(pk=pk)
                    demande = services.demande_soumettre(
                        demande=demande, par=pharmaciens[pharmacien_de[pk]], version=version
                    )
                    with verrou:
                        compteurs["soumises"] += 1
                    services.demande_octroyer(
                        demande=demande,
                        par=evaluateur,
                        version=demande.version,
                        duree_jours=90,
                        laboratoire=demande.specialite.titulaire,
                        reserve_hospitalier=True,
                    )
                    with verrou:
                        compteurs["octroyees"] += 1
                except ConflitEtat:
                    with verrou:
                        compteurs["conflits"] += 1
                except Exception as exc:  # noqa: BLE001 - counted and reported, never hidden
                    with verrou:
                        compteurs["erreurs"] += 1
                    print(f"Erreur inattendue sur la demande {pk} : {exc!r}")
        finally:
            connection.close()

    fils = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    debut = time.perf_counter()
    for f in fils:
        f.start()
    for f in fils:
        f.join()
    duree = time.perf_counter() - debut

    transitions = compteurs["soumises"] + compteurs["octroyees"]
    journal = dict(
        JournalDemande.objects.filter(demande_id__in=ids, transition__in=["soumettre", "octroyer"])
        .values_list("transition")
        .annotate(n=Count("id"))
    )
    octroyees = DemandeAAC.objects.filter(pk__in=ids, statut="octroyee").count()
    decisions = Decision.objects.filter(demande_id__in=ids).count()
    doublons = (
        JournalDemande.objects.filter(demande_id__in=ids)
        .values("demande_id", "transition")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    perdus = (journal.get("soumettre", 0) - compteurs["soumises"]) + (
        journal.get("octroyer", 0) - compteurs["octroyees"]
    )
    print(
        f"\nDébit soumission -> octroi ({CLIENTS} clients concurrents, une connexion chacun, {len(ids)} demandes "
        f"présentes deux fois dans la file) :"
    )
    print(
        f"  durée {duree:.1f} s ; {octroyees / duree:.1f} demandes octroyées/s ; "
        f"{transitions / duree:.1f} transitions/s"
    )
    print(
        f"  soumissions {compteurs['soumises']}, octrois {compteurs['octroyees']}, conflits refusés "
        f"{compteurs['conflits']} (message de conflit), erreurs inattendues {compteurs['erreurs']}"
    )
    print(
        f"  journal : {journal.get('soumettre', 0)} « soumettre » + {journal.get('octroyer', 0)} « octroyer » ; "
        f"décisions {decisions} ; événements perdus {perdus} ; doublons {doublons}"
    )
    ok = (
        octroyees == len(ids) == decisions == journal.get("octroyer", 0) == journal.get("soumettre", 0)
        and perdus == 0
        and doublons == 0
        and compteurs["erreurs"] == 0
    )
    print(f"  zéro événement perdu ni doublé, une décision par demande : {'oui' if ok else 'NON'}")
    retirer(ids)
    return ok


def retirer(ids: list[int]) -> None:
    """Remove the throughput run's requests, so that every run measures the same 200,000."""
    from django.db import transaction

    from demandes.models import AccesDonneesPatient, AttestationCritere, Decision, DemandeAAC, JournalDemande

    with transaction.atomic():
        for modele in (JournalDemande, Decision, AttestationCritere, AccesDonneesPatient):
            modele.objects.filter(demande_id__in=ids).delete()
        DemandeAAC.objects.filter(pk__in=ids).delete()


def main() -> None:
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    nom_base = arguments[0] if arguments else "ad_demandes_bench"
    preparer_environnement(nom_base)
    import logging

    import django

    django.setup()
    from django.core.management import call_command

    # The outbox's task messages go to kombu's filesystem broker in the scratch folder, which warns on each one.
    logging.getLogger("kombu").setLevel(logging.ERROR)

    from demandes.models import DemandeAAC

    call_command("migrate", verbosity=0)
    if "--reseed" in sys.argv or DemandeAAC.objects.exclude(reference__startswith="D-BANC-").count() < NB_DEMANDES:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE demandes_demandeaac, comptes_utilisateur, comptes_pui, comptes_etablissement, "
                "referentiel_laboratoire, referentiel_specialite RESTART IDENTITY CASCADE"
            )
        semer()
    retirer(list(DemandeAAC.objects.filter(reference__startswith="D-BANC-").values_list("pk", flat=True)))
    print(f"Base {nom_base} : {DemandeAAC.objects.count():,} demandes.".replace(",", " "))
    from django.conf import settings
    from django.test import override_settings

    # Static files unhashed: the pages are measured without running collectstatic first.
    stockage = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=stockage):
        listes = mesurer_listes()
    debit = mesurer_debit()
    sys.exit(0 if listes and debit else 1)


if __name__ == "__main__":
    main()
