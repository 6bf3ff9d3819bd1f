"""Run time of the daily end-of-treatment scan (R17, R20) on 10,000 and on 1,000,000 AAC requests, 1,000 of them
due: the scan must cost what its due items cost, not what the table holds (target: ratio under 1.5).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ad_x .venv/bin/python benchmarks/deadlines.py [base] [--reseed]

Uses its own databases on the server of DATABASE_URL: `ad_echeances_bench` (or the name given) for 1,000,000
requests and the same name with `_petit` for 10,000. Creates and migrates them, seeds the accounts and the
référentiel with bulk_create, then the requests and their decisions with PostgreSQL COPY (audit triggers off for
the load: it is not what is measured), the same seed in both so that the 10,000 requests are the same:
- 1,000 requests granted and ending in 30 days (due for the 30-day reminder);
- the others in every state of a year of requests, their treatments ending at any other date; in the large base,
  990,000 more of them.
A base seeded on an earlier day, or with other counts, is seeded again (--reseed forces it).

Measures the scan as the worker runs it: `aac_fins_traitement_rappeler` for the day selects the due grants in
batches of 500, queues 4 reminders each in the outbox (the prescriber, the PUI's address and its 2 pharmacists) and
publishes their sending after each batch's commit (to kombu's in-memory transport: no broker server to run). The
outbox is emptied before each run, so that each run does the whole work again. The runs alternate between the two
bases (one warm-up each, then RUNS each): on a shared machine, load from other processes hits both sizes alike.
Also times the reading of the due items alone (the SQL that could grow with the table), and prints the plan of
one batch on 1,000,000 requests.
"""

import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

RACINE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(RACINE))

PETIT = 10_000
GRAND = 1_000_000
DUS = 1_000
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
NB_ETABLISSEMENTS = 100
PUI_PAR_ETABLISSEMENT = 2
PHARMACIENS_PAR_PUI = 2
PRESCRIPTEURS_PAR_ETABLISSEMENT = 20
NB_SPECIALITES = 300
LOT_COPIE = 100_000


def preparer_environnement(nom_base: str) -> tuple[str, str]:
    """Create the two databases if needed and point Django at the large one; returns (small, large) names."""
    from benchmarks.commun import environnement_production, preparer_bases

    noms = (f"{nom_base}_petit", nom_base)
    preparer_bases(*noms)
    environnement_production(
        fichiers="banc-echeances-",
        # Publishing a send costs what it costs on Redis without a server to run: kombu's in-memory transport.
        CELERY_BROKER_URL="memory://",
        SITE_URL="https://referentiel-ad.example",
    )
    return noms


def utiliser(nom: str) -> None:
    """Point Django's connection at another of the bench's databases (same server, same user)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = nom


# --- Seed ----------------------------------------------------------------------------------------------------------

# A year of requests: most decided, a few in progress (the due ones are added apart).
ETATS = [
    ("octroyee", 0.62),
    ("expiree", 0.14),
    ("refusee", 0.05),
    ("brouillon", 0.05),
    ("annulee", 0.03),
    ("transmise_pharmacien", 0.04),
    ("renvoyee", 0.01),
    ("en_evaluation", 0.04),
    ("complement_demande", 0.01),
    ("complement_fourni", 0.01),
]
# Every seeded request is a complete referenced request; only these columns vary from one to the next.
VARIABLES_DEMANDE = (
    "reference, statut, prescripteur_id, etablissement_id, pui_id, specialite_id, indication_id, cree_le, "
    "modifiee_le, transmise_le, soumise_le, decidee_le"
)
FIXES_DEMANDE = {
    "version": 3,
    "patient_initiales": "J.-D.",
    "patient_age": 54,
    "patient_age_unite": "ans",
    "patient_sexe": "F",
    "patient_poids_kg": "62.5",
    "territoire": "metropole",
    "situation": "soin",
    "type_medicament": "reference_indication",
    "indication_libre": "",
    "medicament_nom": "",
    "medicament_dci": "",
    "medicament_dosage": "",
    "medicament_forme": "",
    "medicament_laboratoire": "",
    "justification": "",
    "patient_non_eligible_aap": False,
    "engagement_information_patient": True,
    "medecin_traitant_informe": True,
    "engagement_surveillance": True,
    "engagement_put_pharmacovigilance": True,
    "engagement_reponse_ansm": True,
    "posologie": "1 injection par semaine",
    "duree_traitement_jours": 180,
    "recherches_commerciales": "",
    "traitement_differable": False,
    "urgence": "normale",
    "astreinte_contactee": False,
    "hors_heures": False,
    "regularisation_a_posteriori": False,
    "donnees_cliniques_periode": "",
    "declaration_poursuite": False,
}
COLONNES_DEMANDE = ", ".join([VARIABLES_DEMANDE, *FIXES_DEMANDE])
VARIABLES_DECISION = (
    "demande_id, sens, reference, numero_aac, date_decision, duree_jours, date_debut, date_fin_traitement, "
    "laboratoire_id, reserve_hospitalier, motif_refus, notifiee_le, date_limite_recours"
)
FIXES_DECISION = {
    "immediate": False,
    "restriction_prescripteurs": "",
    "retrocession": False,
    "motif_refus_texte": "",
    "commentaire": "",
    "fichier": "",
}
COLONNES_DECISION = ", ".join([VARIABLES_DECISION, *FIXES_DECISION])


def semer_referentiel_et_comptes() -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils.text import slugify

    from comptes.demo import avec_cle_luhn
    from comptes.models import PUI, Etablissement, Utilisateur
    from referentiel.models import AccesDerogatoire, Indication, Laboratoire, Specialite

    alea = random.Random(11)
    mot_de_passe = make_password("banc-de-mesure-echeances")
    with transaction.atomic():
        laboratoires = Laboratoire.objects.bulk_create(
            [Laboratoire(nom=f"Laboratoire du banc {i}", est_titulaire=True) for i in range(40)]
        )
        specialites = Specialite.objects.bulk_create(
            [
                Specialite(
                    nom=f"ECHEAMAB{i} 20 mg, solution injectable",
                    slug=slugify(f"echeamab{i}"),
                    titulaire=alea.choice(laboratoires),
                    reserve_hospitalier=True,
                )
                for i in range(NB_SPECIALITES)
            ]
        )
        acces = AccesDerogatoire.objects.bulk_create(
            [
                AccesDerogatoire(specialite=s, type_acces="AAC", date_debut=datetime.date(2024, 1, 1))
                for s in specialites
            ]
        )
        Indication.objects.bulk_create([Indication(acces=a, libelle=f"Maladie rare n° {a.pk}") for a in acces])
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
        comptes, n = [], 0
        for e in etablissements:
            for _ in range(PRESCRIPTEURS_PAR_ETABLISSEMENT):
                n += 1
                comptes.append(
                    Utilisateur(
                        email=f"prescripteur{n}@banc.example",
                        role="prescripteur",
                        rpps=avec_cle_luhn(f"1{n:09d}"),
                        etablissement=e,
                        password=mot_de_passe,
                    )
                )
        for p in puis:
            for _ in range(PHARMACIENS_PAR_PUI):
                n += 1
                comptes.append(
                    Utilisateur(
                        email=f"pharmacien{n}@banc.example",
                        role="pharmacien",
                        rpps=avec_cle_luhn(f"2{n:09d}"),
                        etablissement_id=p.etablissement_id,
                        pui=p,
                        password=mot_de_passe,
                    )
                )
        Utilisateur.objects.bulk_create(comptes, batch_size=2000)


class Semeur:
    """Writes requests and their decisions with COPY, in chunks, the audit triggers off for the load."""

    def __init__(self, aujourd_hui: datetime.date):
        from django.utils import timezone

        from comptes.models import PUI, Utilisateur
        from referentiel.models import Indication, Specialite

        self.aujourd_hui = aujourd_hui
        self.maintenant = timezone.now()
        self.alea = random.Random(7)
        self.prescripteurs = list(
            Utilisateur.objects.filter(role="prescripteur").values_list("pk", "etablissement_id")
        )
        self.puis = {}
        for pui_id, etablissement_id in PUI.objects.values_list("pk", "etablissement_id"):
            self.puis.setdefault(etablissement_id, []).append(pui_id)
        self.indication_de = dict(Indication.objects.values_list("acces__specialite_id", "pk"))
        self.specialites = list(self.indication_de)
        self.laboratoire_de = dict(Specialite.objects.values_list("pk", "titulaire_id"))
        self.etats, self.poids = zip(*ETATS, strict=True)

    def _fin_hors_fenetres(self) -> datetime.date:
        """An end of treatment due for no reminder today: before today, or outside days 0-7 and 23-30 from today."""
        while True:
            ecart = self.alea.randint(-700, 365)
            if not (0 <= ecart <= 7 or 23 <= ecart <= 30):
                return self.aujourd_hui + datetime.timedelta(days=ecart)

    def semer(self, nombre: int, *, dus: int, premier: int) -> None:
        from django.db import connection, transaction

        for debut in range(0, nombre, LOT_COPIE):
            taille = min(LOT_COPIE, nombre - debut)
            lignes, details = [], []
            for i in range(taille):
                numero = premier + debut + i
                du = debut + i < dus
                statut = "octroyee" if du else self.alea.choices(self.etats, self.poids)[0]
                prescripteur, etablissement = self.prescripteurs[numero % len(self.prescripteurs)]
                pui = self.alea.choice(self.puis[etablissement])
                specialite = self.alea.choice(self.specialites)
                cree = self.maintenant - datetime.timedelta(minutes=self.alea.randint(60, 2 * 365 * 24 * 60))
                transmise = cree + datetime.timedelta(hours=2) if statut != "brouillon" else None
                soumise = (
                    transmise + datetime.timedelta(hours=3)
                    if transmise and statut not in ("transmise_pharmacien", "renvoyee", "annulee")
                    else None
                )
                decidee = (
                    soumise + datetime.timedelta(days=2) if statut in ("octroyee", "expiree", "refusee") else None
                )
                lignes.append(
                    (
                        f"D-BANC-{numero:07d}",
                        statut,
                        prescripteur,
                        etablissement,
                        pui,
                        specialite,
                        self.indication_de[specialite],
                        cree,
                        decidee or soumise or cree,
                        transmise,
                        soumise,
                        decidee,
                        *FIXES_DEMANDE.values(),
                    )
                )
                if decidee:
                    if du:
                        fin = self.aujourd_hui + datetime.timedelta(days=30)
                    elif statut == "expiree":
                        fin = self.aujourd_hui - datetime.timedelta(days=self.alea.randint(1, 700))
                    else:
                        fin = self._fin_hors_fenetres()
                    details.append((f"D-BANC-{numero:07d}", statut, decidee, fin, specialite))
            with transaction.atomic(), connection.cursor() as curseur:
                curseur.execute("SET LOCAL session_replication_role = replica")  # no audit trigger for the load
                with curseur.copy(f"COPY demandes_demandeaac ({COLONNES_DEMANDE}) FROM STDIN") as copie:
                    for ligne in lignes:
                        copie.write_row(ligne)
                curseur.execute(
                    "SELECT reference, id FROM demandes_demandeaac WHERE reference = ANY(%s)",
                    [[d[0] for d in details]],
                )
                ids = dict(curseur.fetchall())
                with curseur.copy(f"COPY demandes_decision ({COLONNES_DECISION}) FROM STDIN") as copie:
                    for reference, statut, decidee, fin, specialite in details:
                        pk = ids[reference]
                        octroi = statut != "refusee"
                        copie.write_row(
                            (
                                pk,
                                "octroi" if octroi else "refus",
                                f"DEC-B-{pk:08d}",
                                f"AAC-B-{pk:08d}" if octroi else None,
                                decidee,
                                180 if octroi else None,
                                fin - datetime.timedelta(days=179) if octroi else None,
                                fin if octroi else None,
                                self.laboratoire_de[specialite] if octroi else None,
                                octroi,
                                "" if octroi else "donnees_insuffisantes",
                                decidee,
                                decidee.date() + datetime.timedelta(days=61),
                                *FIXES_DECISION.values(),
                            )
                        )


def milliers(nombre: int) -> str:
    return f"{nombre:,}".replace(",", "\u202f")  # French thousands separator (narrow no-break space)


# --- Measure -------------------------------------------------------------------------------------------------------


def seme_pour(aujourd_hui: datetime.date, nombre: int) -> bool:
    """Whether the current base already holds `nombre` requests with DUS due today (seeded today)."""
    from demandes.models import Decision, DemandeAAC

    fin = aujourd_hui + datetime.timedelta(days=30)
    return (
        DemandeAAC.objects.count() == nombre
        and Decision.objects.filter(sens="octroi", date_fin_traitement=fin).count() == DUS
    )


def semer_base(nom: str, nombre: int, aujourd_hui: datetime.date, *, forcer: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    utiliser(nom)
    call_command("migrate", verbosity=0)
    if not forcer and seme_pour(aujourd_hui, nombre):
        print(f"Base {nom} : {milliers(nombre)} demandes déjà semées aujourd'hui.")
        return
    with connection.cursor() as curseur:
        curseur.execute(
            "TRUNCATE demandes_demandeaac, comptes_utilisateur, comptes_pui, comptes_etablissement, "
            "referentiel_laboratoire, referentiel_specialite, comptes_notification, comptes_journalaudit "
            "RESTART IDENTITY CASCADE"
        )
    debut = time.perf_counter()
    semer_referentiel_et_comptes()
    semeur = Semeur(aujourd_hui)
    semeur.semer(PETIT, dus=DUS, premier=0)
    if nombre > PETIT:
        semeur.semer(nombre - PETIT, dus=0, premier=PETIT)
    with connection.cursor() as curseur:
        curseur.execute("VACUUM ANALYZE")
    duree = time.perf_counter() - debut
    print(f"Base {nom} : {milliers(nombre)} demandes semées en {duree:.1f} s.")


def une_passe(aujourd_hui: datetime.date) -> tuple[float, float]:
    """One run of the scan on the current base, from an empty outbox: (whole scan, reading the due items alone)."""
    from django.db import connection

    from comptes.models import Notification
    from config.celery import app
    from demandes import echeances
    from demandes.tasks import aac_fins_traitement_rappeler
    from referentiel.echeances import par_lots

    with connection.cursor() as curseur:
        curseur.execute("TRUNCATE comptes_notification")
    with app.connection_for_write() as broker:  # empty the in-memory queue the previous run's sends went to
        broker.default_channel.queue_purge(app.conf.task_default_queue)
    debut = time.perf_counter()
    dus = echeances.fins_de_traitement_dues(aujourd_hui=aujourd_hui, jours=30)
    lus = sum(len(lot) for lot in par_lots(dus, champ="date_fin_traitement"))
    lecture = time.perf_counter() - debut
    assert lus == DUS, lus
    debut = time.perf_counter()
    resultat = aac_fins_traitement_rappeler(aujourd_hui=aujourd_hui.isoformat())
    scan = time.perf_counter() - debut
    assert resultat == {"rappels": 4 * DUS}, resultat
    assert Notification.objects.count() == 4 * DUS
    return scan, lecture


def plan_d_un_lot(aujourd_hui: datetime.date) -> str:
    from demandes import echeances

    qs = echeances.fins_de_traitement_dues(aujourd_hui=aujourd_hui, jours=30)
    return qs.order_by("date_fin_traitement", "pk")[: echeances.TAILLE_LOT].explain(analyze=True)


def main() -> None:
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    petite, grande = preparer_environnement(arguments[0] if arguments else "ad_echeances_bench")
    import logging

    import django

    django.setup()
    logging.getLogger("kombu").setLevel(logging.ERROR)
    from django.utils import timezone

    aujourd_hui = timezone.localdate()
    tailles = {petite: PETIT, grande: GRAND}
    for nom, nombre in tailles.items():
        semer_base(nom, nombre, aujourd_hui, forcer="--reseed" in sys.argv)

    mesures = {nom: {"scan": [], "lecture": []} for nom in tailles}
    for essai in range(RUNS + 1):
        for nom in tailles:
            utiliser(nom)
            scan, lecture = une_passe(aujourd_hui)
            if essai:  # the first run of each base warms its caches up
                mesures[nom]["scan"].append(scan)
                mesures[nom]["lecture"].append(lecture)

    entete = f"{milliers(DUS)} AAC dues, {milliers(4 * DUS)} rappels ({RUNS} passes alternées)"
    print(f"\nScan quotidien des fins de traitement, {entete} :")
    for nom, nombre in tailles.items():
        scan, lecture = mesures[nom]["scan"], mesures[nom]["lecture"]
        print(
            f"  {milliers(nombre):>9} demandes : médiane {statistics.median(scan):.3f} s, meilleure {min(scan):.3f} s "
            f"(dont lecture des échéances : médiane {statistics.median(lecture) * 1000:.1f} ms)"
        )
    ratio_median = statistics.median(mesures[grande]["scan"]) / statistics.median(mesures[petite]["scan"])
    ratio_meilleur = min(mesures[grande]["scan"]) / min(mesures[petite]["scan"])
    ratio_lecture = statistics.median(mesures[grande]["lecture"]) / statistics.median(mesures[petite]["lecture"])
    print(
        f"Rapport 1 000 000 / 10 000 : {ratio_median:.2f} (médianes), {ratio_meilleur:.2f} (meilleures passes), "
        f"{ratio_lecture:.2f} (lecture seule) — objectif < 1,5 : {'atteint' if ratio_median < 1.5 else 'MANQUÉ'}"
    )
    utiliser(grande)
    print("\nPlan d'un lot du scan à 1 000 000 demandes (EXPLAIN ANALYZE) :")
    print(plan_d_un_lot(aujourd_hui))
    sys.exit(0 if ratio_median < 1.5 else 1)


if __name__ == "__main__":
    main()
