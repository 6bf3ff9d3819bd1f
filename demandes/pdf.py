"""The decision PDF (R17, R18, R19, R28, R45), drawn with reportlab from the decision's rows.

A grant names the prescriber with contact details and the PUI's contact details, the patient's initials, the
medicine (name or code, DCI, form, strength), the prescription and dispensing conditions, the duration, the
laboratory to order from, states that the PUT-SP is published on the ANSM site and must be followed, and carries
its unique number. A refusal gives its reason. Both give the appeal routes and deadline.
"""

from io import BytesIO
from xml.sax.saxutils import escape

from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from referentiel.models import Composition

from .models import Decision

ANSM = "Agence nationale de sécurité du médicament et des produits de santé (ANSM)"
MENTION_PUT = (
    "Le protocole d'utilisation thérapeutique et de suivi des patients (PUT-SP) est publié sur le site internet de "
    "l'ANSM (référentiel des spécialités en accès dérogatoire) ; il doit être respecté."
)


def _styles():
    base = getSampleStyleSheet()
    return {
        "titre": ParagraphStyle("titre", parent=base["Title"], fontSize=15, leading=19),
        "h": ParagraphStyle("h", parent=base["Heading3"], spaceBefore=8, spaceAfter=3),
        "p": ParagraphStyle("p", parent=base["BodyText"], fontSize=9.5, leading=12.5),
        "petit": ParagraphStyle("petit", parent=base["BodyText"], fontSize=8, leading=10, textColor=colors.grey),
    }


def _p(texte: str, style) -> Paragraph:
    return Paragraph(escape(texte or "—").replace("\n", "<br/>"), style)


def _tableau(lignes: list[tuple[str, str]], styles) -> Table:
    table = Table(
        [[_p(libelle, styles["p"]), _p(valeur, styles["p"])] for libelle, valeur in lignes],
        colWidths=[5.2 * cm, 11.3 * cm],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#bbbbbb")),
            ]
        )
    )
    return table


def compositions_precharger(specialites) -> None:
    """Read the composition (with its substances) of these spécialités in one query, for the decisions drawn from
    them; a spécialité already loaded is not read again (decision_pdf calls it for its own)."""
    prefetch_related_objects(
        [s for s in specialites if s is not None],
        Prefetch("compositions", queryset=Composition.objects.select_related("substance")),
    )


def _medicament(demande) -> list[tuple[str, str]]:
    if demande.specialite_id:
        specialite = demande.specialite
        compositions_precharger([specialite])
        compositions = list(specialite.compositions.all())
        dci = ", ".join(c.substance.dci for c in compositions)
        dosage = ", ".join(f"{c.substance.dci} {c.dosage}".strip() for c in compositions if c.dosage)
        return [
            ("Médicament", specialite.nom),
            ("DCI", dci or "—"),
            ("Forme pharmaceutique", specialite.forme_pharmaceutique or "—"),
            ("Dosage", dosage or "—"),
        ]
    return [
        ("Médicament (nom ou code)", demande.medicament_nom),
        ("DCI", demande.medicament_dci),
        ("Forme pharmaceutique", demande.medicament_forme),
        ("Dosage", demande.medicament_dosage),
    ]


MENTION_APERCU = "PROJET DE DÉCISION — aperçu sans valeur juridique, non notifié"


def decision_pdf(decision: Decision, *, apercu: bool = False) -> bytes:
    """The decision as a PDF document (bytes). `apercu` marks the évaluateur's preview of an unsaved decision."""
    demande = decision.demande
    styles = _styles()
    tampon = BytesIO()
    document = SimpleDocTemplate(
        tampon,
        pagesize=A4,
        leftMargin=2.2 * cm,
        rightMargin=2.2 * cm,
        topMargin=1.8 * cm,
        bottomMargin=1.8 * cm,
        title=f"Décision {decision.reference}",
        author=ANSM,
        subject=f"Demande d'AAC {demande.reference}",
    )
    octroi = decision.est_octroi
    le = timezone.localtime(decision.date_decision)
    titre = (
        "Décision d'autorisation d'accès compassionnel (AAC)"
        if octroi
        else "Décision de refus d'autorisation d'accès compassionnel (AAC)"
    )
    elements = [_p(ANSM, styles["petit"]), Spacer(1, 6), _p(titre, styles["titre"])]
    if apercu:
        elements.insert(0, _p(MENTION_APERCU, styles["h"]))
    entete = [("Référence de la décision", decision.reference)]
    if octroi:
        entete.insert(0, ("Numéro d'AAC", decision.numero_aac))
    entete += [
        ("Demande", demande.reference),
        ("Date de la décision", f"{le:%d/%m/%Y}"),
    ]
    if decision.immediate:
        entete.append(("Nature", "Décision immédiate : demande conforme aux critères d'octroi du référentiel"))
    if demande.regularisation_a_posteriori:
        entete.append(("Hors heures ouvrées", "Demande soumise hors heures ouvrées, régularisée a posteriori"))
    elements += [_tableau(entete, styles)]

    prescripteur = demande.prescripteur
    coordonnees = " — ".join(v for v in (prescripteur.email, prescripteur.telephone) if v)
    elements += [
        _p("Prescripteur", styles["h"]),
        _tableau(
            [
                ("Nom", prescripteur.nom_complet or prescripteur.email),
                ("Qualité", prescripteur.fonction or "Médecin prescripteur"),
                ("RPPS", prescripteur.rpps or "—"),
                ("Établissement", f"{demande.etablissement.nom} (FINESS {demande.etablissement.finess})"),
                ("Coordonnées", coordonnees),
            ],
            styles,
        ),
    ]
    if demande.pui_id:
        pui = demande.pui
        elements += [
            _p("Pharmacie à usage intérieur", styles["h"]),
            _tableau(
                [
                    ("PUI", f"{pui.nom} — {pui.etablissement.nom}"),
                    ("Coordonnées", " — ".join(v for v in (pui.email, pui.telephone) if v)),
                    (
                        "Pharmacien",
                        demande.pharmacien.nom_complet if demande.pharmacien_id else "Pharmaciens de la PUI",
                    ),
                ],
                styles,
            ),
        ]
    elements += [
        _p("Patient", styles["h"]),
        _tableau(
            [
                ("Initiales", demande.patient_initiales),
                ("Âge", demande.age_affiche),
                ("Sexe", demande.get_patient_sexe_display() if demande.patient_sexe else "—"),
            ],
            styles,
        ),
        _p("Médicament", styles["h"]),
        _tableau([*_medicament(demande), ("Indication", demande.indication_affichee)], styles),
    ]
    if octroi:
        if decision.reserve_hospitalier:
            cpd = (
                "Médicament réservé à l'usage hospitalier : prescription, dispensation et administration au sein "
                "d'un établissement de santé."
            )
        else:
            cpd = (
                "Médicament non réservé à l'usage hospitalier : inscrit sur la liste de rétrocession, dispensé aux "
                "patients ambulatoires par les PUI autorisées."
            )
        cpd += " Non disponible en pharmacie d'officine."
        laboratoire = decision.laboratoire
        contact_labo = " — ".join(v for v in (laboratoire.email, laboratoire.telephone) if v)
        elements += [
            _p("Autorisation", styles["h"]),
            _tableau(
                [
                    ("Durée de traitement", f"{decision.duree_jours} jour(s)"),
                    (
                        "Période",
                        f"du {decision.date_debut:%d/%m/%Y} au {decision.date_fin_traitement:%d/%m/%Y}",
                    ),
                    ("Posologie prévue", demande.posologie),
                    ("Conditions de prescription et de délivrance", cpd),
                    ("Restriction de prescription", decision.restriction_prescripteurs or "Aucune"),
                    (
                        "Laboratoire auprès duquel commander",
                        f"{laboratoire.nom}" + (f" ({contact_labo})" if contact_labo else ""),
                    ),
                ],
                styles,
            ),
            Spacer(1, 6),
            _p(MENTION_PUT, styles["p"]),
            _p(
                "La présente autorisation vaut autorisation pour la PUI de commander, importer le cas échéant, "
                "recevoir et dispenser le médicament pour ce patient. Elle est renouvelable : un renouvellement est "
                "une nouvelle demande.",
                styles["p"],
            ),
        ]
    else:
        motif = decision.get_motif_refus_display()
        if decision.motif_refus_texte:
            motif = f"{motif} : {decision.motif_refus_texte}"
        elements += [_p("Motif du refus", styles["h"]), _p(motif, styles["p"])]
    if decision.commentaire:
        elements += [_p("Observations", styles["h"]), _p(decision.commentaire, styles["p"])]
    elements += [
        _p("Voies et délais de recours", styles["h"]),
        _p(
            "Cette décision peut faire l'objet d'un recours gracieux auprès du directeur général de l'ANSM et/ou "
            "d'un recours contentieux auprès du tribunal administratif compétent, dans un délai de deux mois à "
            f"compter de sa notification (soit jusqu'au {decision.date_limite_recours:%d/%m/%Y}).",
            styles["p"],
        ),
        Spacer(1, 10),
        _p(
            f"Document généré le {le:%d/%m/%Y} — référence {decision.reference}"
            + (f" — AAC n° {decision.numero_aac}" if octroi else ""),
            styles["petit"],
        ),
    ]
    document.build(elements)
    return tampon.getvalue()
