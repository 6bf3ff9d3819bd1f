"""Retention of patient identity (issue 7, RGPD): closed requests are pseudonymised after a configurable period.

A request is closed when it is refusée, expirée or annulée (an AAC still octroyée is in force: the end-of-treatment
task makes it expirée first). RETENTION_PATIENT_JOURS days after its last activity (`modifiee_le`: a decision, an
expiry, a cancellation, an appeal or a renewal all move it), the nightly task (comptes.tasks) erases what
identifies the patient and keeps what the statistics need:

- erased: the initials (the R43 format admits no token in that column, so it is emptied and a random,
  non-reversible token is recorded in `PseudonymisationDemande`); the attachments' content and original file
  name (a medical report names the patient): each file is overwritten in place by a one-page notice, and its
  metadata describe the notice; the stored decision PDF is redrawn with the token instead of the initials.
- kept exactly: age, sex, weight, territory, medicine, indication, dates, states, decision and its reasons, the
  journal, so statistics by month, medicine and decision are unchanged. Age and weight alone do not identify a
  patient once the initials, the documents and the names are gone, and the ANSM needs them as they are
  (paediatric use, dose per kilogram).
- not rewritten: free-text fields (justification, posology, questions and answers), which the forms ask never to
  identify the patient; the audit trail, which never holds the initials (comptes.audit masks them).

Each batch runs in one transaction: files are rewritten first and the row marked last, so a crash leaves the row
selected and the next run redoes it (rewriting a file again is harmless). Rows locked by a transition in progress
are skipped (`SKIP LOCKED`) and taken the next night. The selection reads a partial index that holds exactly the
rows still to process, so each batch costs the same however many requests were already pseudonymised.
"""

import datetime
import hashlib
import logging
import secrets
from io import BytesIO

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from .models import PseudonymisationDemande

logger = logging.getLogger(__name__)

NOM_PIECE_SUPPRIMEE = "piece-supprimee-conservation.pdf"


def demandes_a_pseudonymiser(*, seuil: datetime.datetime) -> QuerySet:
    """Closed requests whose last activity is older than `seuil` and that still hold the patient's initials."""
    from demandes.enums import STATUTS_CLOS
    from demandes.models import DemandeAAC

    # Read through the model's partial index of the requests still to pseudonymise (demandes.models).
    return (
        DemandeAAC.objects.filter(statut__in=STATUTS_CLOS, modifiee_le__lt=seuil)
        .exclude(patient_initiales="")
        .order_by("modifiee_le", "id")
    )


def _jeton() -> str:
    """Random, so it reveals nothing and no key can turn it back into initials."""
    return "PSN-" + secrets.token_hex(8).upper()


def _avis_piece_supprimee(*, reference: str, le: datetime.date) -> bytes:
    tampon = BytesIO()
    page = canvas.Canvas(tampon, pagesize=A4)
    page.setTitle("Pièce jointe supprimée")
    page.setFont("Helvetica", 11)
    lignes = [
        "Pièce jointe supprimée",
        "",
        f"Cette pièce jointe à la demande d'AAC {reference} a été supprimée le {le:%d/%m/%Y},",
        "au terme de la durée de conservation des données identifiant le patient.",
    ]
    for rang, ligne in enumerate(lignes):
        page.drawString(72, 770 - 16 * rang, ligne)
    page.showPage()
    page.save()
    return tampon.getvalue()


def _ecraser(fichier, contenu: bytes) -> None:
    """Overwrite the stored file in place: same name, so no row points to a file that no longer exists."""
    with fichier.storage.open(fichier.name, "wb") as sortie:
        sortie.write(contenu)


def _pseudonymiser_fichiers(demandes: list, jetons: dict[int, str], *, aujourd_hui: datetime.date) -> None:
    from demandes.models import Decision, PieceJointe
    from demandes.pdf import compositions_precharger, decision_pdf

    par_id = {d.pk: d for d in demandes}
    pieces = list(PieceJointe.objects.filter(demande_id__in=par_id).exclude(nom=NOM_PIECE_SUPPRIMEE))
    for piece in pieces:
        avis = _avis_piece_supprimee(reference=par_id[piece.demande_id].reference, le=aujourd_hui)
        if piece.fichier:
            _ecraser(piece.fichier, avis)
        piece.nom = NOM_PIECE_SUPPRIMEE
        piece.type_mime = "application/pdf"
        piece.taille = len(avis)
        piece.empreinte = hashlib.sha256(avis).hexdigest()
    # One UPDATE for the batch's attachments, however many they are.
    PieceJointe.objects.bulk_update(pieces, ["nom", "type_mime", "taille", "empreinte"])

    decisions = list(Decision.objects.filter(demande_id__in=par_id).exclude(fichier="").select_related("laboratoire"))
    # The medicines of the decisions redrawn below, read at once rather than once per PDF.
    compositions_precharger([par_id[d.demande_id].specialite for d in decisions])
    for decision in decisions:
        demande = par_id[decision.demande_id]
        decision.demande = demande
        # Drawn again from the same rows, the token standing where the initials were (nothing is saved here).
        demande.patient_initiales = f"pseudonymisé ({jetons[demande.pk]})"
        _ecraser(decision.fichier, decision_pdf(decision))
        demande.patient_initiales = ""


def demandes_pseudonymiser(
    *, maintenant: datetime.datetime | None = None, taille_lot: int = 200, lots_max: int = 50
) -> int:
    """Pseudonymise the requests closed for RETENTION_PATIENT_JOURS, by batches; returns how many were done.

    Idempotent: a pseudonymised request leaves the selection. At most `lots_max` batches per run, so one run
    stays within the task's time limit; the next run continues.
    """
    from demandes.models import DemandeAAC

    maintenant = maintenant or timezone.now()
    delai = settings.RETENTION_PATIENT_JOURS
    seuil = maintenant - datetime.timedelta(days=delai)
    total = 0
    for _ in range(lots_max):
        with transaction.atomic():
            demandes = list(
                demandes_a_pseudonymiser(seuil=seuil)
                .select_for_update(of=("self",), skip_locked=True)
                .select_related("prescripteur", "etablissement", "pui__etablissement", "pharmacien")
                .select_related("specialite", "indication")[:taille_lot]
            )
            if not demandes:
                break
            jetons = {d.pk: _jeton() for d in demandes}
            _pseudonymiser_fichiers(demandes, jetons, aujourd_hui=timezone.localdate(maintenant))
            # The row is marked last. `modifiee_le` is left alone: this is not an activity on the request, and
            # the lists ordered by it must not change; `version` moves, so a form opened before is refused.
            DemandeAAC.objects.filter(pk__in=jetons).update(patient_initiales="", version=F("version") + 1)
            PseudonymisationDemande.objects.bulk_create(
                PseudonymisationDemande(demande_id=pk, jeton=jeton, le=maintenant, delai_jours=delai)
                for pk, jeton in jetons.items()
            )
        total += len(demandes)
        logger.info("Rétention : %s demandes pseudonymisées (délai %s jours)", len(demandes), delai)
    return total
