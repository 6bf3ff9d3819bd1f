"""Issue 7 (RGPD): the patient identity of a closed request is pseudonymised RETENTION_PATIENT_JOURS after its last
activity, by a nightly Celery task; the statistics (by month, medicine, decision) stay intact."""

import datetime
import io
import re

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.db.models import Count, F
from django.db.models.functions import TruncMonth
from django.utils import timezone
from pypdf import PdfReader
from reportlab.pdfgen import canvas

from comptes import retention
from comptes.models import JournalAudit, PseudonymisationDemande
from comptes.tasks import demandes_pseudonymiser
from demandes import services
from demandes.enums import StatutDemande
from demandes.models import INDEX_A_PSEUDONYMISER, DemandeAAC, PieceJointe
from tests.factories import DemandeFactory, UtilisateurFactory

pytestmark = pytest.mark.django_db

# A Tuesday morning in Paris; two years (730 days) later, give or take a day.
T0 = datetime.datetime(2024, 3, 12, 10, 0, tzinfo=timezone.get_fixed_timezone(60))
APRES_DELAI = T0 + datetime.timedelta(days=731)
AVANT_DELAI = T0 + datetime.timedelta(days=729)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _pdf(texte: str) -> bytes:
    tampon = io.BytesIO()
    page = canvas.Canvas(tampon)
    page.drawString(72, 720, texte)
    page.save()
    return tampon.getvalue()


def _texte_pdf(contenu: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(contenu)).pages)


def _refusee_avec_piece(initiales: str = "J.-D.") -> DemandeAAC:
    """A request filed with a medical report naming the patient, then refused by the ANSM (decision PDF stored)."""
    demande = DemandeFactory(patient_initiales=initiales)
    services.piece_joindre(
        demande=demande,
        par=demande.prescripteur,
        fichier=SimpleUploadedFile("compte-rendu-DUPONT-Jean.pdf", _pdf("Compte rendu de Jean DUPONT, né en 1970")),
    )
    DemandeAAC.objects.filter(pk=demande.pk).update(
        statut=StatutDemande.EN_EVALUATION, transmise_le=timezone.now(), soumise_le=timezone.now()
    )
    demande.refresh_from_db()
    services.demande_refuser(
        demande=demande,
        par=UtilisateurFactory(evaluateur=True),
        version=demande.version,
        motif="donnees_insuffisantes",
    )
    demande.refresh_from_db()
    return demande


def _statistiques() -> list[dict]:
    """What the ANSM's statistics read: requests by month of decision, medicine, state, decision, patient profile."""
    return list(
        DemandeAAC.objects.values(
            "statut",
            "specialite_id",
            "patient_sexe",
            "patient_age",
            "patient_poids_kg",
            "territoire",
            sens=F("decision__sens"),
            mois=TruncMonth("decidee_le"),
        )
        .annotate(nombre=Count("id"))
        .order_by("statut", "specialite_id", "patient_age")
    )


def test_une_demande_close_depuis_deux_ans_est_pseudonymisee_et_les_statistiques_restent_intactes():
    with time_machine.travel(T0, tick=False):
        refusee = _refusee_avec_piece()
        expiree = DemandeFactory(expiree=True, patient_initiales="A.B.")
        annulee = DemandeFactory(annulee=True, patient_initiales="C.D.")
    statistiques = _statistiques()
    versions = {d.pk: d.version for d in (refusee, expiree, annulee)}

    with time_machine.travel(APRES_DELAI, tick=False):
        assert demandes_pseudonymiser.delay().get() == 3

    assert _statistiques() == statistiques
    for demande in (refusee, expiree, annulee):
        demande.refresh_from_db()
        assert demande.patient_initiales == ""
        assert demande.version == versions[demande.pk] + 1
        assert (demande.patient_age, demande.patient_sexe, demande.patient_poids_kg) == (54, "F", 62.5)
        marque = PseudonymisationDemande.objects.get(demande=demande)
        assert re.fullmatch(r"PSN-[0-9A-F]{16}", marque.jeton)
        assert marque.le == APRES_DELAI and marque.delai_jours == settings.RETENTION_PATIENT_JOURS == 730
    assert refusee.modifiee_le < T0 + datetime.timedelta(days=1)  # not an activity: the lists keep their order
    assert len({m.jeton for m in PseudonymisationDemande.objects.all()}) == 3


def test_la_piece_jointe_et_la_decision_ne_nomment_plus_le_patient():
    with time_machine.travel(T0, tick=False):
        demande = _refusee_avec_piece(initiales="J.-D.")
    piece = PieceJointe.objects.get(demande=demande)
    chemin_piece, chemin_decision = piece.fichier.path, demande.decision.fichier.path
    assert "DUPONT" in _texte_pdf(piece.fichier.read())
    assert "J.-D." in _texte_pdf(demande.decision.fichier.read())

    with time_machine.travel(APRES_DELAI, tick=False):
        retention.demandes_pseudonymiser()

    piece.refresh_from_db()
    jeton = PseudonymisationDemande.objects.get(demande=demande).jeton
    assert piece.fichier.path == chemin_piece  # overwritten in place: no stale file left behind
    with open(chemin_piece, "rb") as fichier:
        contenu = fichier.read()
    texte = _texte_pdf(contenu)
    assert "DUPONT" not in texte and "Pièce jointe supprimée" in texte and demande.reference in texte
    assert (piece.nom, piece.type_mime, piece.taille) == (
        "piece-supprimee-conservation.pdf",
        "application/pdf",
        len(contenu),
    )
    with open(chemin_decision, "rb") as fichier:
        decision = _texte_pdf(fichier.read())
    assert "J.-D." not in decision
    assert f"pseudonymisé ({jeton})" in decision and demande.decision.reference in decision


def test_ni_une_aac_en_cours_ni_un_brouillon_ni_une_demande_close_recemment_ne_sont_touches():
    with time_machine.travel(T0, tick=False):
        en_cours = DemandeFactory(octroyee=True)
        brouillon = DemandeFactory()
        en_evaluation = DemandeFactory(en_evaluation=True)
    with time_machine.travel(T0 + datetime.timedelta(days=400), tick=False):
        recente = DemandeFactory(refusee=True)
    with time_machine.travel(APRES_DELAI, tick=False):
        assert retention.demandes_pseudonymiser() == 0
    for demande in (en_cours, brouillon, en_evaluation, recente):
        demande.refresh_from_db()
        assert demande.patient_initiales == "J.-D."
    assert not PseudonymisationDemande.objects.exists()


def test_le_delai_se_compte_en_jours_depuis_la_derniere_activite_et_se_configure(settings):
    with time_machine.travel(T0, tick=False):
        demande = DemandeFactory(refusee=True)
    with time_machine.travel(AVANT_DELAI, tick=False):
        assert retention.demandes_pseudonymiser() == 0
    settings.RETENTION_PATIENT_JOURS = 30
    with time_machine.travel(T0 + datetime.timedelta(days=31), tick=False):
        assert retention.demandes_pseudonymiser() == 1
    assert PseudonymisationDemande.objects.get(demande=demande).delai_jours == 30


def test_la_tache_est_idempotente():
    with time_machine.travel(T0, tick=False):
        _refusee_avec_piece()
        DemandeFactory(expiree=True)
    with time_machine.travel(APRES_DELAI, tick=False):
        assert retention.demandes_pseudonymiser() == 2
        jetons = set(PseudonymisationDemande.objects.values_list("jeton", flat=True))
        ecritures = JournalAudit.objects.count()
        assert retention.demandes_pseudonymiser() == 0
    assert set(PseudonymisationDemande.objects.values_list("jeton", flat=True)) == jetons
    assert JournalAudit.objects.count() == ecritures


def test_le_travail_se_fait_par_lots_et_reprend_au_passage_suivant():
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            DemandeFactory(annulee=True)
    with time_machine.travel(APRES_DELAI, tick=False):
        assert retention.demandes_pseudonymiser(taille_lot=2, lots_max=2) == 4
        assert retention.demandes_pseudonymiser(taille_lot=2, lots_max=2) == 1
    assert PseudonymisationDemande.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_une_demande_verrouillee_par_une_transition_en_cours_est_laissee_pour_la_nuit_suivante():
    """SKIP LOCKED: the task neither waits for a request being worked on nor blocks it; it takes it next time."""
    with time_machine.travel(T0, tick=False):
        libre, verrouillee = DemandeFactory(annulee=True), DemandeFactory(annulee=True)
    # Another process (a web worker in the middle of a transition) holds the row lock.
    autre = connections.create_connection("default")
    try:
        with autre.cursor() as curseur:
            curseur.execute("BEGIN")
            curseur.execute("SELECT id FROM demandes_demandeaac WHERE id = %s FOR UPDATE", [verrouillee.pk])
            with time_machine.travel(APRES_DELAI, tick=False):
                assert retention.demandes_pseudonymiser() == 1
            assert list(PseudonymisationDemande.objects.values_list("demande_id", flat=True)) == [libre.pk]
            curseur.execute("ROLLBACK")
    finally:
        autre.close()
    with time_machine.travel(APRES_DELAI + datetime.timedelta(days=1), tick=False):
        assert retention.demandes_pseudonymiser() == 1
    verrouillee.refresh_from_db()
    assert verrouillee.patient_initiales == ""


def test_la_selection_lit_l_index_partiel_des_demandes_a_pseudonymiser():
    seuil = timezone.now()
    requete = retention.demandes_a_pseudonymiser(seuil=seuil).values("id")[:200]
    with transaction.atomic(), connection.cursor() as curseur:
        curseur.execute("SET LOCAL enable_seqscan = off")
        sql, parametres = requete.query.sql_with_params()
        curseur.execute(f"EXPLAIN {sql}", parametres)
        plan = "\n".join(ligne[0] for ligne in curseur.fetchall())
    assert INDEX_A_PSEUDONYMISER in plan, plan


def test_la_pseudonymisation_est_au_journal_d_audit_sans_les_initiales():
    with time_machine.travel(T0, tick=False):
        demande = DemandeFactory(refusee=True, patient_initiales="Z.Y.")
    with time_machine.travel(APRES_DELAI, tick=False):
        retention.demandes_pseudonymiser()
    ligne = JournalAudit.objects.filter(table_nom="demandes_demandeaac", objet_id=str(demande.pk)).latest("id")
    assert ligne.operation == "UPDATE" and ligne.colonnes == ["patient_initiales", "version"]
    assert ligne.avant["patient_initiales"] == "[masqué]" and ligne.apres["patient_initiales"] == ""
    assert ligne.utilisateur is None
    assert not JournalAudit.objects.filter(avant__patient_initiales="Z.Y.").exists()


def test_la_tache_est_planifiee_chaque_nuit_par_beat():
    planification = settings.CELERY_BEAT_SCHEDULE["demandes-pseudonymiser"]
    assert planification["task"] == "comptes.tasks.demandes_pseudonymiser"
    assert planification["schedule"].hour == {3} and planification["schedule"].minute == {40}


@pytest.mark.parametrize("nombre", [1, 3])
def test_un_lot_coute_le_meme_nombre_de_requetes_quel_que_soit_son_nombre_de_demandes(
    nombre, django_assert_num_queries
):
    with time_machine.travel(T0, tick=False):
        demandes = [_refusee_avec_piece() for _ in range(nombre)]
    # Per batch: select, attachments read then updated at once, decisions and the compositions of their medicines,
    # requests marked, tokens, and the empty batch that ends the run.
    with time_machine.travel(APRES_DELAI, tick=False), django_assert_num_queries(12):
        assert retention.demandes_pseudonymiser() == nombre
    assert PieceJointe.objects.filter(demande__in=demandes, nom=retention.NOM_PIECE_SUPPRIMEE).count() == nombre
