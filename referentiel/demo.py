"""The demonstration référentiel that `make run` loads: some sixty fiches covering every access type and state.

Real DCI and plausible French indications, critères d'octroi, PUT, reports and small generated PDFs, all marked
`demonstration=True` (every page then says so). Written through the services, like any fiche: each one has its
history and its search document. Dates are relative to the day of loading, so the demo looks current.
Loading is idempotent (a fiche already there is left alone) and `demo_supprimer` removes it all.
"""

import datetime
import io
import zlib
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from . import services
from .documents import fichier_depuis_octets
from .enums import (
    TYPE_SUCCESSEUR,
    AireTherapeutique,
    EtapeCPC,
    EtatAcces,
    OrigineSignalement,
    PhaseAAP,
    StatutAMM,
    TypeAcces,
    TypeDocument,
    TypePUT,
)
from .exceptions import ReferentielError
from .models import Document, Laboratoire, Specialite, Substance
from .regles import ajouter_mois

A = AireTherapeutique
EN_COURS, SUSPENDU, TERMINE = EtatAcces.EN_COURS, EtatAcces.SUSPENDU, EtatAcces.TERMINE
PRE, POST = PhaseAAP.PRE_AMM, PhaseAAP.POST_AMM

CRPV = (
    "CRPV de Lyon",
    "CRPV de Bordeaux",
    "CRPV de Paris — Hôpital européen Georges-Pompidou",
    "CRPV de Toulouse",
    "CRPV de Marseille",
    "CRPV de Lille",
    "CRPV de Nantes",
    "CRPV de Strasbourg",
)


@dataclass(frozen=True)
class Ind:
    libelle: str
    criteres: tuple[str, ...] = ()
    patients: str = ""
    rare: bool = False


@dataclass(frozen=True)
class Statut:
    """One derogatory status; dates are months from today (int) or fixed dates for the historical ones."""

    type: str
    debut: int | datetime.date
    indications: tuple[Ind, ...] = ()
    etat: str = EN_COURS
    fin: int | datetime.date | None = None
    phase: str = ""
    riph: bool = False  # commercial research under way: the laboratory commits to file an AAP (R7, R23)
    prolongation: int = 0  # months granted on the AAP filing deadline (R23)
    put: str = "recueil"  # "recueil" (nominative data collection), "simple", or "" (none yet)
    periodicite: int = 6
    amm: int | None = None  # an AMM granted while in AAC, months from today (R24)
    cessation: int | None = None  # months from today
    origine: str = ""
    etape: str = ""
    conditions: str = ""


@dataclass(frozen=True)
class Produit:
    nom: str
    dci: tuple[tuple[str, str], ...]
    forme: str
    voie: str
    titulaire: str
    aire: str
    statuts: tuple[Statut, ...]
    exploitant: str = ""
    atc: str = ""
    mitm: bool = False
    amm: int | datetime.date | None = None  # AMM in France before the statuses
    hospitalier: bool = True
    restriction: str = ""


def _d(annee: int, mois: int, jour: int = 1) -> datetime.date:
    return datetime.date(annee, mois, jour)


ADULTE = "Patient âgé de 18 ans ou plus"
ECOG = "Indice de performance ECOG de 0 à 2"
PAS_ESSAI = "Patient ne pouvant être inclus dans un essai clinique en cours"
CONTRACEPTION = "Contraception efficace pendant le traitement pour les patients en âge de procréer"

PRODUITS: tuple[Produit, ...] = (
    # --- Oncology ------------------------------------------------------------------------------------------------
    Produit(
        "TECLISTAMAB 10 mg/ml, solution injectable",
        (("teclistamab", "10 mg/ml"),),
        "solution injectable",
        "sous-cutanée",
        "Janssen-Cilag",
        A.HEMATOLOGIE,
        atc="L01FX24",
        restriction="Prescription réservée aux spécialistes en hématologie",
        statuts=(
            Statut(
                TypeAcces.AAC,
                -20,
                (
                    Ind(
                        "Myélome multiple en rechute et réfractaire après au moins trois lignes de traitement",
                        (
                            ADULTE,
                            "Au moins trois lignes antérieures dont un inhibiteur du protéasome, un "
                            "immunomodulateur et un anticorps anti-CD38",
                            "Progression documentée sous la dernière ligne de traitement",
                            ECOG,
                        ),
                    ),
                ),
                riph=True,
            ),
            Statut(
                TypeAcces.AAP,
                -3,
                (Ind("Myélome multiple triple-classe exposé en rechute et réfractaire", patients=ADULTE),),
                phase=PRE,
                put="recueil",
            ),
        ),
    ),
    Produit(
        "ELRANATAMAB 40 mg/ml, solution injectable",
        (("elranatamab", "40 mg/ml"),),
        "solution injectable",
        "sous-cutanée",
        "Pfizer",
        A.HEMATOLOGIE,
        atc="L01FX32",
        statuts=(
            Statut(
                TypeAcces.AAC,
                -14,
                (
                    Ind(
                        "Myélome multiple en rechute et réfractaire, triple-classe exposé",
                        (
                            ADULTE,
                            "Exposition antérieure à un inhibiteur du protéasome, un immunomodulateur et un "
                            "anticorps anti-CD38",
                            "Absence d'alternative thérapeutique appropriée",
                            PAS_ESSAI,
                        ),
                    ),
                ),
                riph=True,
                prolongation=4,
            ),
        ),
    ),
    Produit(
        "TALQUETAMAB 40 mg/ml, solution injectable",
        (("talquetamab", "40 mg/ml"),),
        "solution injectable",
        "sous-cutanée",
        "Janssen-Cilag",
        A.HEMATOLOGIE,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -16,
                (
                    Ind(
                        "Myélome multiple en rechute après au moins quatre lignes de traitement",
                        (ADULTE, "Au moins quatre lignes antérieures", "Absence d'atteinte neurologique active"),
                    ),
                ),
                etat=SUSPENDU,
                conditions="Suspendu dans l'attente de données de qualité complémentaires du laboratoire.",
            ),
        ),
    ),
    Produit(
        "SOTORASIB 120 mg, comprimé pelliculé",
        (("sotorasib", "120 mg"),),
        "comprimé pelliculé",
        "orale",
        "Amgen",
        A.ONCOLOGIE,
        atc="L01XX73",
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -10,
                (
                    Ind(
                        "Cancer bronchique non à petites cellules avancé avec mutation KRAS G12C, après au moins "
                        "une ligne de traitement systémique",
                        (
                            ADULTE,
                            "Mutation KRAS G12C confirmée par un test validé",
                            "Progression après au moins une ligne de traitement systémique",
                            ECOG,
                        ),
                    ),
                ),
                riph=True,
            ),
        ),
    ),
    Produit(
        "ADAGRASIB 200 mg, comprimé pelliculé",
        (("adagrasib", "200 mg"),),
        "comprimé pelliculé",
        "orale",
        "Bristol-Myers Squibb",
        A.ONCOLOGIE,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -7,
                (
                    Ind(
                        "Cancer colorectal métastatique avec mutation KRAS G12C, en association au cétuximab",
                        (
                            ADULTE,
                            "Mutation KRAS G12C confirmée",
                            "Au moins deux lignes antérieures dont une chimiothérapie à base d'oxaliplatine",
                            ECOG,
                        ),
                    ),
                ),
                riph=True,
            ),
        ),
    ),
    Produit(
        "SELPERCATINIB 80 mg, gélule",
        (("selpercatinib", "80 mg"),),
        "gélule",
        "orale",
        "Lilly France",
        A.ONCOLOGIE,
        atc="L01EX22",
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -18,
                (
                    Ind(
                        "Cancer médullaire de la thyroïde avancé avec mutation RET chez l'adolescent",
                        ("Patient âgé de 12 ans ou plus", "Mutation RET confirmée", "Maladie progressive"),
                        rare=True,
                    ),
                ),
                amm=-1,
                cessation=1,
            ),
        ),
    ),
    Produit(
        "PRALSETINIB 100 mg, gélule",
        (("pralsetinib", "100 mg"),),
        "gélule",
        "orale",
        "Roche",
        A.ONCOLOGIE,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -30,
                (
                    Ind(
                        "Cancer bronchique non à petites cellules avec fusion du gène RET",
                        (ADULTE, "Fusion RET confirmée", "Échec d'une chimiothérapie à base de platine"),
                    ),
                ),
                amm=-8,
                cessation=-5,
                etat=TERMINE,
            ),
        ),
    ),
    Produit(
        "LORLATINIB 100 mg, comprimé pelliculé",
        (("lorlatinib", "100 mg"),),
        "comprimé pelliculé",
        "orale",
        "Pfizer",
        A.ONCOLOGIE,
        atc="L01ED05",
        amm=_d(2019, 5, 6),
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.ATUC,
                _d(2017, 10, 2),
                (Ind("Cancer bronchique ALK positif après échec d'au moins un inhibiteur de tyrosine kinase"),),
                etat=TERMINE,
                fin=_d(2019, 5, 6),
                put="",
            ),
            Statut(
                TypeAcces.AAP,
                -26,
                (Ind("Cancer bronchique ALK positif avancé en première ligne", patients=ADULTE),),
                etat=TERMINE,
                fin=-8,
                phase=POST,
                periodicite=12,
            ),
        ),
    ),
    Produit(
        "LAROTRECTINIB 20 mg/ml, solution buvable",
        (("larotrectinib", "20 mg/ml"),),
        "solution buvable",
        "orale",
        "Bayer HealthCare",
        A.ONCOLOGIE,
        atc="L01EX12",
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.ATUN,
                _d(2018, 9, 3),
                (Ind("Tumeur solide avec fusion du gène NTRK sans alternative thérapeutique"),),
                etat=TERMINE,
                fin=_d(2021, 6, 30),
                put="",
            ),
            Statut(
                TypeAcces.AAC,
                _d(2021, 7, 1),
                (
                    Ind(
                        "Tumeur solide localement avancée ou métastatique avec fusion NTRK, chez l'enfant",
                        (
                            "Patient âgé de moins de 18 ans",
                            "Fusion NTRK confirmée par un test validé",
                            "Absence d'option thérapeutique satisfaisante",
                        ),
                        rare=True,
                    ),
                ),
            ),
        ),
    ),
    Produit(
        "ENTRECTINIB 200 mg, gélule",
        (("entrectinib", "200 mg"),),
        "gélule",
        "orale",
        "Roche",
        A.ONCOLOGIE,
        atc="L01EX14",
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -12,
                (
                    Ind(
                        "Cancer bronchique avancé avec réarrangement ROS1 et métastases cérébrales",
                        (ADULTE, "Réarrangement ROS1 confirmé", "Métastases cérébrales évolutives"),
                    ),
                ),
                put="simple",
            ),
        ),
    ),
    Produit(
        "AVAPRITINIB 300 mg, comprimé pelliculé",
        (("avapritinib", "300 mg"),),
        "comprimé pelliculé",
        "orale",
        "Blueprint Medicines",
        A.ONCOLOGIE,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -15,
                (
                    Ind(
                        "Tumeur stromale gastro-intestinale non résécable avec mutation PDGFRA D842V",
                        (ADULTE, "Mutation PDGFRA D842V confirmée", "Maladie non résécable ou métastatique"),
                        rare=True,
                    ),
                    Ind(
                        "Mastocytose systémique avancée",
                        (ADULTE, "Diagnostic selon les critères de l'OMS", "Plaquettes au moins à 50 G/l"),
                        rare=True,
                    ),
                ),
                riph=True,
                prolongation=6,
            ),
        ),
    ),
    Produit(
        "RIPRETINIB 50 mg, comprimé",
        (("ripretinib", "50 mg"),),
        "comprimé",
        "orale",
        "Deciphera Pharmaceuticals",
        A.ONCOLOGIE,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -22,
                (
                    Ind(
                        "Tumeur stromale gastro-intestinale avancée après au moins trois inhibiteurs de kinase",
                        (ADULTE, "Traitement antérieur par imatinib, sunitinib et régorafénib"),
                    ),
                ),
                etat=SUSPENDU,
            ),
        ),
    ),
    Produit(
        "AMIVANTAMAB 50 mg/ml, solution à diluer pour perfusion",
        (("amivantamab", "50 mg/ml"),),
        "solution à diluer pour perfusion",
        "intraveineuse",
        "Janssen-Cilag",
        A.ONCOLOGIE,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -9,
                (Ind("Cancer bronchique avec insertion dans l'exon 20 de l'EGFR après chimiothérapie"),),
                phase=PRE,
            ),
        ),
    ),
    Produit(
        "TRASTUZUMAB DERUXTECAN 100 mg, poudre pour solution à diluer pour perfusion",
        (("trastuzumab deruxtecan", "100 mg"),),
        "poudre pour solution à diluer pour perfusion",
        "intraveineuse",
        "Daiichi Sankyo France",
        A.ONCOLOGIE,
        exploitant="AstraZeneca",
        amm=-30,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -11,
                (Ind("Cancer du sein HER2-faible métastatique après chimiothérapie", patients=ADULTE),),
                phase=POST,
            ),
        ),
    ),
    Produit(
        "SACITUZUMAB GOVITECAN 180 mg, poudre pour solution à diluer pour perfusion",
        (("sacituzumab govitecan", "180 mg"),),
        "poudre pour solution à diluer pour perfusion",
        "intraveineuse",
        "Gilead Sciences",
        A.ONCOLOGIE,
        amm=-36,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -40,
                (Ind("Cancer du sein triple négatif métastatique après deux lignes de traitement"),),
                phase=POST,
                etat=TERMINE,
                fin=-20,
            ),
        ),
    ),
    Produit(
        "TUCATINIB 150 mg, comprimé pelliculé",
        (("tucatinib", "150 mg"),),
        "comprimé pelliculé",
        "orale",
        "Pierre Fabre Médicament",
        A.ONCOLOGIE,
        amm=_d(2021, 2, 11),
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.ATUC,
                _d(2020, 6, 15),
                (Ind("Cancer du sein HER2 positif métastatique avec métastases cérébrales"),),
                etat=TERMINE,
                fin=_d(2021, 2, 11),
                put="",
            ),
        ),
    ),
    Produit(
        "CAPMATINIB 150 mg, comprimé pelliculé",
        (("capmatinib", "150 mg"),),
        "comprimé pelliculé",
        "orale",
        "Novartis Pharma",
        A.ONCOLOGIE,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -6,
                (
                    Ind(
                        "Cancer bronchique avec saut de l'exon 14 de MET",
                        (ADULTE, "Altération MET exon 14 confirmée", ECOG),
                    ),
                ),
                put="simple",
            ),
        ),
    ),
    Produit(
        "TEPOTINIB 225 mg, comprimé pelliculé",
        (("tépotinib", "225 mg"),),
        "comprimé pelliculé",
        "orale",
        "Merck Santé",
        A.ONCOLOGIE,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -34,
                (Ind("Cancer bronchique avec saut de l'exon 14 de MET", (ADULTE, "Altération MET confirmée")),),
                etat=TERMINE,
                fin=-14,
            ),
        ),
    ),
    Produit(
        "MOSUNETUZUMAB 1 mg/ml, solution à diluer pour perfusion",
        (("mosunétuzumab", "1 mg/ml"),),
        "solution à diluer pour perfusion",
        "intraveineuse",
        "Roche",
        A.HEMATOLOGIE,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -8,
                (
                    Ind(
                        "Lymphome folliculaire en rechute ou réfractaire après au moins deux lignes",
                        (ADULTE, "Au moins deux lignes dont un anticorps anti-CD20", "Absence de lymphome cérébral"),
                    ),
                ),
            ),
        ),
    ),
    Produit(
        "EPCORITAMAB 4 mg/0,8 ml, solution injectable",
        (("epcoritamab", "4 mg/0,8 ml"),),
        "solution injectable",
        "sous-cutanée",
        "AbbVie",
        A.HEMATOLOGIE,
        amm=-20,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -10,
                (Ind("Lymphome diffus à grandes cellules B en rechute après au moins deux lignes"),),
                phase=POST,
            ),
        ),
    ),
    Produit(
        "GLOFITAMAB 2,5 mg, solution à diluer pour perfusion",
        (("glofitamab", "2,5 mg"),),
        "solution à diluer pour perfusion",
        "intraveineuse",
        "Roche",
        A.HEMATOLOGIE,
        amm=-24,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -34,
                (Ind("Lymphome diffus à grandes cellules B réfractaire, non éligible aux CAR-T"),),
                phase=POST,
                etat=TERMINE,
                fin=-12,
            ),
        ),
    ),
    Produit(
        "ZANUBRUTINIB 80 mg, gélule",
        (("zanubrutinib", "80 mg"),),
        "gélule",
        "orale",
        "BeiGene France",
        A.HEMATOLOGIE,
        amm=_d(2021, 11, 22),
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.ATUC,
                _d(2020, 12, 1),
                (Ind("Maladie de Waldenström après au moins une ligne de traitement"),),
                etat=TERMINE,
                fin=_d(2021, 6, 30),
                put="",
            ),
            Statut(
                TypeAcces.AAP,
                _d(2021, 7, 1),
                (Ind("Maladie de Waldenström non éligible à la chimio-immunothérapie", rare=True),),
                phase=POST,
                etat=TERMINE,
                fin=-6,
                periodicite=12,
            ),
        ),
    ),
    Produit(
        "PIRTOBRUTINIB 100 mg, comprimé pelliculé",
        (("pirtobrutinib", "100 mg"),),
        "comprimé pelliculé",
        "orale",
        "Lilly France",
        A.HEMATOLOGIE,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -9,
                (
                    Ind(
                        "Leucémie lymphoïde chronique après un inhibiteur covalent de BTK et le vénétoclax",
                        (ADULTE, "Progression ou intolérance sous inhibiteur covalent de BTK", ECOG),
                    ),
                ),
                riph=True,
            ),
        ),
    ),
    Produit(
        "IBRUTINIB 140 mg, gélule",
        (("ibrutinib", "140 mg"),),
        "gélule",
        "orale",
        "Janssen-Cilag",
        A.HEMATOLOGIE,
        atc="L01EL01",
        amm=_d(2014, 10, 21),
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.ATUN,
                _d(2013, 11, 4),
                (Ind("Lymphome à cellules du manteau en rechute"),),
                etat=TERMINE,
                fin=_d(2014, 10, 21),
                put="",
            ),
            Statut(
                TypeAcces.ATUC,
                _d(2014, 3, 3),
                (Ind("Leucémie lymphoïde chronique avec délétion 17p"),),
                etat=TERMINE,
                fin=_d(2014, 10, 21),
                put="",
            ),
        ),
    ),
    Produit(
        "CILTACABTAGENE AUTOLEUCEL, dispersion pour perfusion",
        (("ciltacabtagène autoleucel", "3,2 × 10^6 cellules/kg"),),
        "dispersion pour perfusion",
        "intraveineuse",
        "Janssen-Cilag",
        A.HEMATOLOGIE,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -5,
                (Ind("Myélome multiple en rechute après un à trois traitements antérieurs", patients=ADULTE),),
                phase=PRE,
                etat=SUSPENDU,
                conditions="Suspendu : capacités de production insuffisantes déclarées par le laboratoire.",
            ),
        ),
    ),
    Produit(
        "BELANTAMAB MAFODOTINE 100 mg, poudre pour solution à diluer pour perfusion",
        (("bélantamab mafodotine", "100 mg"),),
        "poudre pour solution à diluer pour perfusion",
        "intraveineuse",
        "GlaxoSmithKline",
        A.HEMATOLOGIE,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -40,
                (Ind("Myélome multiple en rechute après quatre lignes", (ADULTE, "Examen ophtalmologique initial")),),
                etat=TERMINE,
                fin=-18,
            ),
        ),
    ),
    Produit(
        "LUSPATERCEPT 25 mg, poudre pour solution injectable",
        (("luspatercept", "25 mg"),),
        "poudre pour solution injectable",
        "sous-cutanée",
        "Bristol-Myers Squibb",
        A.HEMATOLOGIE,
        amm=-40,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -12,
                (Ind("Anémie des syndromes myélodysplasiques de bas risque, en première ligne"),),
                phase=POST,
                etat=SUSPENDU,
            ),
        ),
    ),
    Produit(
        "CROVALIMAB 340 mg, solution injectable",
        (("crovalimab", "340 mg"),),
        "solution injectable",
        "intraveineuse",
        "Roche",
        A.HEMATOLOGIE,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -4,
                (
                    Ind(
                        "Hémoglobinurie paroxystique nocturne",
                        (
                            "Patient âgé de 12 ans ou plus et pesant au moins 40 kg",
                            "Vaccination antiméningococcique à jour",
                            "Intolérance ou échec des inhibiteurs du complément disponibles",
                        ),
                        rare=True,
                    ),
                ),
                riph=True,
            ),
        ),
    ),
    # --- Neurology and rare diseases ------------------------------------------------------------------------------
    Produit(
        "NUSINERSEN 12 mg, solution injectable",
        (("nusinersen", "12 mg"),),
        "solution injectable",
        "intrathécale",
        "Biogen France",
        A.NEUROLOGIE,
        atc="M09AX07",
        mitm=True,
        amm=_d(2017, 5, 30),
        statuts=(
            Statut(
                TypeAcces.ATUN,
                _d(2016, 6, 1),
                (Ind("Amyotrophie spinale infantile de type 1"),),
                etat=TERMINE,
                fin=_d(2016, 11, 30),
                put="",
            ),
            Statut(
                TypeAcces.ATUC,
                _d(2016, 12, 1),
                (Ind("Amyotrophie spinale 5q de types 1 et 2", rare=True),),
                etat=TERMINE,
                fin=_d(2017, 5, 30),
                put="",
            ),
        ),
    ),
    Produit(
        "RISDIPLAM 0,75 mg/ml, poudre pour solution buvable",
        (("risdiplam", "0,75 mg/ml"),),
        "poudre pour solution buvable",
        "orale",
        "Roche",
        A.NEUROLOGIE,
        atc="M09AX10",
        mitm=True,
        amm=_d(2021, 3, 26),
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.ATUC,
                _d(2020, 6, 2),
                (Ind("Amyotrophie spinale 5q de type 1 ou 2", rare=True),),
                etat=TERMINE,
                fin=_d(2021, 6, 30),
                put="",
            ),
            Statut(
                TypeAcces.AAP,
                _d(2021, 7, 1),
                (
                    Ind(
                        "Amyotrophie spinale 5q présymptomatique avec une à quatre copies du gène SMN2",
                        patients="Nourrissons de moins de 2 mois",
                        rare=True,
                    ),
                ),
                phase=POST,
                periodicite=12,
            ),
        ),
    ),
    Produit(
        "ONASEMNOGENE ABEPARVOVEC, solution pour perfusion",
        (("onasemnogène abéparvovec", "2 × 10^13 vg/ml"),),
        "solution pour perfusion",
        "intraveineuse",
        "Novartis Gene Therapies",
        A.PEDIATRIE,
        atc="M09AX09",
        amm=_d(2020, 5, 18),
        statuts=(
            Statut(
                TypeAcces.ATUC,
                _d(2019, 5, 2),
                (Ind("Amyotrophie spinale de type 1 chez le nourrisson", rare=True),),
                etat=TERMINE,
                fin=_d(2020, 5, 18),
                put="",
            ),
        ),
    ),
    Produit(
        "TOFERSEN 100 mg, solution injectable",
        (("tofersen", "100 mg"),),
        "solution injectable",
        "intrathécale",
        "Biogen France",
        A.NEUROLOGIE,
        atc="N07XX22",
        statuts=(
            Statut(
                TypeAcces.AAC,
                -17,
                (
                    Ind(
                        "Sclérose latérale amyotrophique liée à une mutation du gène SOD1",
                        (
                            ADULTE,
                            "Mutation pathogène de SOD1 confirmée",
                            "Capacité vitale lente au moins égale à 50 % de la théorique",
                            "Absence de contre-indication à la ponction lombaire",
                        ),
                        rare=True,
                    ),
                ),
                riph=True,
                prolongation=6,
            ),
        ),
    ),
    Produit(
        "EPLONTERSEN 45 mg, solution injectable en stylo prérempli",
        (("éplontersen", "45 mg"),),
        "solution injectable",
        "sous-cutanée",
        "AstraZeneca",
        A.NEUROLOGIE,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -5,
                (
                    Ind(
                        "Amylose héréditaire à transthyrétine avec polyneuropathie de stade 1 ou 2",
                        (ADULTE, "Mutation du gène TTR confirmée", "Intolérance ou contre-indication au patisiran"),
                        rare=True,
                    ),
                ),
            ),
        ),
    ),
    Produit(
        "TAFAMIDIS 61 mg, capsule molle",
        (("tafamidis", "61 mg"),),
        "capsule molle",
        "orale",
        "Pfizer",
        A.CARDIOLOGIE,
        atc="N07XX08",
        mitm=True,
        amm=_d(2020, 2, 17),
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.ATUC,
                _d(2018, 12, 3),
                (Ind("Cardiomyopathie amyloïde à transthyrétine, sauvage ou héréditaire", rare=True),),
                etat=TERMINE,
                fin=_d(2020, 2, 17),
                put="",
            ),
            Statut(
                TypeAcces.CPC,
                -14,
                (
                    Ind(
                        "Cardiomyopathie amyloïde à transthyrétine de classe NYHA III",
                        patients="Adultes en classe NYHA III stable depuis au moins 3 mois",
                        rare=True,
                    ),
                ),
                origine=OrigineSignalement.CENTRE_REFERENCE,
                etape=EtapeCPC.PUBLIE,
                periodicite=12,
            ),
        ),
    ),
    Produit(
        "VUTRISIRAN 25 mg, solution injectable en seringue préremplie",
        (("vutrisiran", "25 mg"),),
        "solution injectable",
        "sous-cutanée",
        "Alnylam France",
        A.NEUROLOGIE,
        atc="N07XX18",
        amm=-28,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -15,
                (Ind("Amylose héréditaire à transthyrétine avec polyneuropathie", rare=True),),
                phase=POST,
            ),
        ),
    ),
    Produit(
        "PATISIRAN 2 mg/ml, solution à diluer pour perfusion",
        (("patisiran", "2 mg/ml"),),
        "solution à diluer pour perfusion",
        "intraveineuse",
        "Alnylam France",
        A.NEUROLOGIE,
        atc="N07XX12",
        amm=_d(2018, 8, 27),
        statuts=(
            Statut(
                TypeAcces.ATUC,
                _d(2018, 2, 5),
                (Ind("Amylose héréditaire à transthyrétine avec polyneuropathie de stade 1 ou 2", rare=True),),
                etat=TERMINE,
                fin=_d(2018, 8, 27),
                put="",
            ),
        ),
    ),
    Produit(
        "CANNABIDIOL 100 mg/ml, solution buvable",
        (("cannabidiol", "100 mg/ml"),),
        "solution buvable",
        "orale",
        "Jazz Pharmaceuticals France",
        A.NEUROLOGIE,
        atc="N03AX24",
        amm=_d(2019, 9, 19),
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.ATUN,
                _d(2017, 3, 1),
                (Ind("Épilepsie pharmacorésistante du syndrome de Dravet ou de Lennox-Gastaut"),),
                etat=TERMINE,
                fin=_d(2019, 9, 19),
                put="",
            ),
            Statut(
                TypeAcces.CPC,
                -10,
                (
                    Ind(
                        "Épilepsie pharmacorésistante associée au déficit en CDKL5",
                        patients="Enfants à partir de 2 ans, après échec d'au moins deux antiépileptiques",
                        rare=True,
                    ),
                ),
                origine=OrigineSignalement.CENTRE_REFERENCE,
                etape=EtapeCPC.PUBLIE,
            ),
        ),
    ),
    Produit(
        "FENFLURAMINE 2,2 mg/ml, solution buvable",
        (("fenfluramine", "2,2 mg/ml"),),
        "solution buvable",
        "orale",
        "UCB Pharma",
        A.NEUROLOGIE,
        amm=_d(2020, 12, 18),
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.ATUN,
                _d(2019, 1, 7),
                (Ind("Crises d'épilepsie associées au syndrome de Dravet"),),
                etat=TERMINE,
                fin=_d(2020, 12, 18),
                put="",
            ),
            Statut(
                TypeAcces.CPC,
                -40,
                (Ind("Crises épileptiques du syndrome de Lennox-Gastaut chez l'enfant de moins de 2 ans"),),
                origine=OrigineSignalement.CNP,
                etape=EtapeCPC.PUBLIE,
                etat=SUSPENDU,
                conditions="Suspendu dans l'attente de l'évaluation d'un signal de valvulopathie.",
            ),
        ),
    ),
    Produit(
        "EFGARTIGIMOD ALFA 20 mg/ml, solution à diluer pour perfusion",
        (("efgartigimod alfa", "20 mg/ml"),),
        "solution à diluer pour perfusion",
        "intraveineuse",
        "argenx France",
        A.NEUROLOGIE,
        amm=-26,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -18,
                (Ind("Myasthénie auto-immune généralisée avec anticorps anti-récepteurs de l'acétylcholine"),),
                phase=POST,
            ),
        ),
    ),
    Produit(
        "ECULIZUMAB 300 mg, solution à diluer pour perfusion",
        (("éculizumab", "300 mg"),),
        "solution à diluer pour perfusion",
        "intraveineuse",
        "Alexion Pharma France",
        A.NEUROLOGIE,
        amm=_d(2007, 6, 20),
        statuts=(
            Statut(
                TypeAcces.CPC,
                -20,
                (
                    Ind(
                        "Syndrome de Guillain-Barré sévère réfractaire aux immunoglobulines",
                        patients="Adultes ventilés après échec des immunoglobulines et des échanges plasmatiques",
                        rare=True,
                    ),
                ),
                origine=OrigineSignalement.CENTRE_REFERENCE,
                etape=EtapeCPC.PUBLIE,
            ),
        ),
    ),
    Produit(
        "BACLOFENE 10 mg, comprimé",
        (("baclofène", "10 mg"),),
        "comprimé",
        "orale",
        "Sanofi Winthrop Industrie",
        A.NEUROLOGIE,
        amm=_d(1975, 1, 1),
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.RTU,
                _d(2014, 3, 14),
                (
                    Ind(
                        "Aide au maintien de l'abstinence et réduction de la consommation d'alcool",
                        patients="Adultes alcoolo-dépendants après échec des traitements disponibles",
                    ),
                ),
                etat=TERMINE,
                fin=_d(2017, 3, 13),
                origine="",
                put="",
            ),
        ),
    ),
    Produit(
        "RITUXIMAB 500 mg, solution à diluer pour perfusion",
        (("rituximab", "500 mg"),),
        "solution à diluer pour perfusion",
        "intraveineuse",
        "Roche",
        A.IMMUNOLOGIE,
        amm=_d(1998, 6, 2),
        statuts=(
            Statut(
                TypeAcces.RTU,
                _d(2018, 1, 15),
                (Ind("Purpura thrombopénique immunologique de l'adulte réfractaire"),),
                etat=TERMINE,
                fin=_d(2021, 1, 14),
                put="",
            ),
            Statut(
                TypeAcces.CPC,
                -30,
                (
                    Ind(
                        "Néphropathie extramembraneuse primitive à haut risque de progression",
                        patients="Adultes avec protéinurie persistante malgré un traitement néphroprotecteur",
                    ),
                ),
                origine=OrigineSignalement.CNP,
                etape=EtapeCPC.PUBLIE,
            ),
        ),
    ),
    Produit(
        "TOCILIZUMAB 20 mg/ml, solution à diluer pour perfusion",
        (("tocilizumab", "20 mg/ml"),),
        "solution à diluer pour perfusion",
        "intraveineuse",
        "Roche",
        A.IMMUNOLOGIE,
        amm=_d(2009, 1, 16),
        statuts=(
            Statut(
                TypeAcces.CPC,
                2,
                (Ind("Maladie de Castleman multicentrique idiopathique", rare=True),),
                origine=OrigineSignalement.ASSOCIATION_PATIENTS,
                etape=EtapeCPC.TRANSMIS_TITULAIRE,
                put="",
            ),
        ),
    ),
    Produit(
        "THALIDOMIDE 50 mg, gélule",
        (("thalidomide", "50 mg"),),
        "gélule",
        "orale",
        "Bristol-Myers Squibb",
        A.DERMATOLOGIE,
        amm=_d(2008, 4, 16),
        hospitalier=False,
        restriction="Prescription réservée aux dermatologues et internistes",
        statuts=(
            Statut(
                TypeAcces.CPC,
                -44,
                (Ind("Érythème noueux lépreux et aphtose sévère réfractaire"),),
                origine=OrigineSignalement.CENTRE_REFERENCE,
                etape=EtapeCPC.PUBLIE,
                etat=TERMINE,
                fin=-8,
            ),
        ),
    ),
    # --- Metabolic, endocrine, kidney -----------------------------------------------------------------------------
    Produit(
        "OLIPUDASE ALFA 20 mg, poudre pour solution à diluer pour perfusion",
        (("olipudase alfa", "20 mg"),),
        "poudre pour solution à diluer pour perfusion",
        "intraveineuse",
        "Sanofi Winthrop Industrie",
        A.MALADIES_METABOLIQUES,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -11,
                (
                    Ind(
                        "Manifestations non neurologiques du déficit en sphingomyélinase acide",
                        (
                            "Déficit enzymatique confirmé et génotype SMPD1 documenté",
                            "Atteinte viscérale ou pulmonaire évolutive",
                            "Absence d'atteinte neurologique prédominante",
                        ),
                        rare=True,
                    ),
                ),
                riph=True,
            ),
        ),
    ),
    Produit(
        "AVALGLUCOSIDASE ALFA 100 mg, poudre pour solution à diluer pour perfusion",
        (("avalglucosidase alfa", "100 mg"),),
        "poudre pour solution à diluer pour perfusion",
        "intraveineuse",
        "Sanofi Winthrop Industrie",
        A.MALADIES_METABOLIQUES,
        amm=-30,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -36,
                (Ind("Maladie de Pompe à début tardif", rare=True),),
                phase=POST,
                etat=TERMINE,
                fin=-20,
            ),
        ),
    ),
    Produit(
        "SEBELIPASE ALFA 2 mg/ml, solution à diluer pour perfusion",
        (("sébélipase alfa", "2 mg/ml"),),
        "solution à diluer pour perfusion",
        "intraveineuse",
        "Alexion Pharma France",
        A.MALADIES_METABOLIQUES,
        amm=_d(2015, 8, 28),
        statuts=(
            Statut(
                TypeAcces.ATUN,
                _d(2014, 4, 1),
                (Ind("Déficit en lipase acide lysosomale à début infantile", rare=True),),
                etat=TERMINE,
                fin=_d(2015, 8, 28),
                put="",
            ),
        ),
    ),
    Produit(
        "VOSORITIDE 0,4 mg, poudre et solvant pour solution injectable",
        (("vosoritide", "0,4 mg"),),
        "poudre et solvant pour solution injectable",
        "sous-cutanée",
        "BioMarin International",
        A.PEDIATRIE,
        amm=-34,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -20,
                (Ind("Achondroplasie chez l'enfant de 4 mois et plus dont les épiphyses ne sont pas soudées"),),
                phase=POST,
            ),
        ),
    ),
    Produit(
        "LONAFARNIB 75 mg, gélule",
        (("lonafarnib", "75 mg"),),
        "gélule",
        "orale",
        "Eiger BioPharmaceuticals",
        A.PEDIATRIE,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -13,
                (
                    Ind(
                        "Syndrome de progéria de Hutchinson-Gilford",
                        ("Patient âgé de 12 mois ou plus", "Diagnostic génétique confirmé (mutation LMNA)"),
                        rare=True,
                    ),
                ),
                put="simple",
            ),
        ),
    ),
    Produit(
        "MITAPIVAT 50 mg, comprimé pelliculé",
        (("mitapivat", "50 mg"),),
        "comprimé pelliculé",
        "orale",
        "Agios Pharmaceuticals",
        A.HEMATOLOGIE,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -6,
                (
                    Ind(
                        "Déficit en pyruvate kinase érythrocytaire",
                        (ADULTE, "Au moins deux mutations du gène PKLR dont une non faux-sens exclue"),
                        rare=True,
                    ),
                ),
            ),
        ),
    ),
    Produit(
        "METRELEPTINE 11,3 mg, poudre pour solution injectable",
        (("métréleptine", "11,3 mg"),),
        "poudre pour solution injectable",
        "sous-cutanée",
        "Chiesi",
        A.ENDOCRINOLOGIE,
        mitm=True,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -24,
                (
                    Ind(
                        "Lipodystrophie partielle familiale avec complications métaboliques non contrôlées",
                        (
                            "Patient âgé de 12 ans ou plus",
                            "HbA1c supérieure à 8 % ou triglycérides supérieurs à 5 g/l sous traitement standard",
                            "Leptinémie basse documentée",
                        ),
                        rare=True,
                    ),
                ),
            ),
        ),
    ),
    Produit(
        "OSILODROSTAT 1 mg, comprimé pelliculé",
        (("osilodrostat", "1 mg"),),
        "comprimé pelliculé",
        "orale",
        "Recordati Rare Diseases",
        A.ENDOCRINOLOGIE,
        amm=_d(2020, 1, 9),
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.ATUN,
                _d(2018, 10, 1),
                (Ind("Syndrome de Cushing endogène non opérable", rare=True),),
                etat=TERMINE,
                fin=_d(2020, 1, 9),
                put="",
            ),
        ),
    ),
    Produit(
        "LUMASIRAN 94,5 mg/0,5 ml, solution injectable",
        (("lumasiran", "94,5 mg/0,5 ml"),),
        "solution injectable",
        "sous-cutanée",
        "Alnylam France",
        A.NEPHROLOGIE,
        amm=-40,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -44,
                (Ind("Hyperoxalurie primitive de type 1 à tout âge", rare=True),),
                phase=POST,
                etat=TERMINE,
                fin=-30,
            ),
        ),
    ),
    Produit(
        "IPTACOPAN 200 mg, gélule",
        (("iptacopan", "200 mg"),),
        "gélule",
        "orale",
        "Novartis Pharma",
        A.NEPHROLOGIE,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -3,
                (
                    Ind(
                        "Glomérulopathie à C3 avec protéinurie persistante",
                        (ADULTE, "Diagnostic histologique de glomérulopathie à C3", "Vaccinations à jour"),
                        rare=True,
                    ),
                ),
                riph=True,
            ),
        ),
    ),
    # --- Infectious diseases ---------------------------------------------------------------------------------
    Produit(
        "LENACAPAVIR 300 mg, comprimé pelliculé",
        (("lénacapavir", "300 mg"),),
        "comprimé pelliculé",
        "orale",
        "Gilead Sciences",
        A.INFECTIOLOGIE,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -19,
                (
                    Ind(
                        "Infection par le VIH-1 multirésistante en échec virologique",
                        (
                            ADULTE,
                            "Résistance documentée à au moins deux molécules de trois classes antirétrovirales",
                            "Charge virale supérieure à 400 copies/ml sous traitement",
                            "Avis d'une réunion de concertation pluridisciplinaire",
                        ),
                    ),
                ),
                riph=True,
                prolongation=3,
            ),
        ),
    ),
    Produit(
        "FOSTEMSAVIR 600 mg, comprimé à libération prolongée",
        (("fostemsavir", "600 mg"),),
        "comprimé à libération prolongée",
        "orale",
        "ViiV Healthcare",
        A.INFECTIOLOGIE,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.ATUN,
                _d(2019, 2, 1),
                (Ind("Infection par le VIH-1 multirésistante sans option thérapeutique"),),
                etat=TERMINE,
                fin=_d(2021, 6, 30),
                put="",
            ),
            Statut(
                TypeAcces.AAC,
                _d(2021, 7, 1),
                (Ind("Infection par le VIH-1 multirésistante", (ADULTE, "Absence d'option thérapeutique efficace")),),
                etat=TERMINE,
                fin=-28,
            ),
        ),
    ),
    Produit(
        "TECOVIRIMAT 200 mg, gélule",
        (("técovirimat", "200 mg"),),
        "gélule",
        "orale",
        "SIGA Technologies",
        A.INFECTIOLOGIE,
        mitm=True,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -28,
                (
                    Ind(
                        "Infection à orthopoxvirus (mpox) sévère ou chez un patient immunodéprimé",
                        (
                            "Infection confirmée par PCR",
                            "Forme sévère ou immunodépression",
                            "Poids d'au moins 13 kg",
                        ),
                    ),
                ),
                put="simple",
            ),
        ),
    ),
    Produit(
        "CEFIDEROCOL 1 g, poudre pour solution à diluer pour perfusion",
        (("céfidérocol", "1 g"),),
        "poudre pour solution à diluer pour perfusion",
        "intraveineuse",
        "Shionogi",
        A.INFECTIOLOGIE,
        mitm=True,
        amm=_d(2020, 4, 23),
        statuts=(
            Statut(
                TypeAcces.ATUN,
                _d(2019, 3, 1),
                (Ind("Infection à bacille à Gram négatif multirésistant sans alternative"),),
                etat=TERMINE,
                fin=_d(2020, 4, 23),
                put="",
            ),
        ),
    ),
    Produit(
        "MARIBAVIR 200 mg, comprimé pelliculé",
        (("maribavir", "200 mg"),),
        "comprimé pelliculé",
        "orale",
        "Takeda France",
        A.INFECTIOLOGIE,
        amm=-30,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -16,
                (Ind("Infection à cytomégalovirus réfractaire après greffe de cellules souches ou d'organe"),),
                phase=POST,
            ),
        ),
    ),
    Produit(
        "NIRMATRELVIR 150 mg / RITONAVIR 100 mg, comprimés pelliculés",
        (("nirmatrelvir", "150 mg"), ("ritonavir", "100 mg")),
        "comprimé pelliculé",
        "orale",
        "Pfizer",
        A.INFECTIOLOGIE,
        mitm=True,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAP,
                _d(2022, 1, 20),
                (Ind("COVID-19 chez l'adulte à haut risque d'évolution vers une forme grave"),),
                phase=PRE,
                etat=TERMINE,
                fin=_d(2022, 12, 31),
                periodicite=3,
            ),
        ),
    ),
    # --- Lungs, heart, skin, eyes, gut ------------------------------------------------------------------------
    Produit(
        "ELEXACAFTOR / TEZACAFTOR / IVACAFTOR 100 mg/50 mg/75 mg, comprimé pelliculé",
        (("élexacaftor", "100 mg"), ("tézacaftor", "50 mg"), ("ivacaftor", "75 mg")),
        "comprimé pelliculé",
        "orale",
        "Vertex Pharmaceuticals",
        A.PNEUMOLOGIE,
        mitm=True,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -26,
                (
                    Ind(
                        "Mucoviscidose avec mutations non F508del répondeuses in vitro",
                        (
                            "Patient âgé de 6 ans ou plus",
                            "Génotype CFTR sans mutation F508del documenté",
                            "VEMS inférieur à 90 % de la théorique ou exacerbations répétées",
                        ),
                        rare=True,
                    ),
                ),
            ),
        ),
    ),
    Produit(
        "SOTATERCEPT 45 mg, poudre et solvant pour solution injectable",
        (("sotatercept", "45 mg"),),
        "poudre et solvant pour solution injectable",
        "sous-cutanée",
        "MSD France",
        A.PNEUMOLOGIE,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -5,
                (
                    Ind(
                        "Hypertension artérielle pulmonaire en classe fonctionnelle III malgré une trithérapie",
                        (
                            ADULTE,
                            "Trithérapie spécifique optimale depuis au moins 3 mois",
                            "Plaquettes supérieures à 50 G/l",
                        ),
                        rare=True,
                    ),
                ),
                riph=True,
            ),
        ),
    ),
    Produit(
        "MAVACAMTEN 5 mg, gélule",
        (("mavacamten", "5 mg"),),
        "gélule",
        "orale",
        "Bristol-Myers Squibb",
        A.CARDIOLOGIE,
        amm=-22,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -14,
                (Ind("Cardiomyopathie hypertrophique obstructive symptomatique de classe NYHA II-III"),),
                phase=POST,
            ),
        ),
    ),
    Produit(
        "ANIFROLUMAB 300 mg, solution à diluer pour perfusion",
        (("anifrolumab", "300 mg"),),
        "solution à diluer pour perfusion",
        "intraveineuse",
        "AstraZeneca",
        A.IMMUNOLOGIE,
        amm=-36,
        statuts=(
            Statut(
                TypeAcces.AAP,
                -30,
                (Ind("Lupus systémique actif avec auto-anticorps malgré un traitement standard"),),
                phase=POST,
                etat=SUSPENDU,
            ),
        ),
    ),
    Produit(
        "RUXOLITINIB 15 mg/g, crème",
        (("ruxolitinib", "15 mg/g"),),
        "crème",
        "cutanée",
        "Incyte Biosciences France",
        A.DERMATOLOGIE,
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -9,
                (
                    Ind(
                        "Vitiligo non segmentaire étendu du visage",
                        (
                            "Patient âgé de 12 ans ou plus",
                            "Échec des dermocorticoïdes et des inhibiteurs de la calcineurine",
                        ),
                    ),
                ),
                etat=SUSPENDU,
                put="simple",
            ),
        ),
    ),
    Produit(
        "VORETIGENE NEPARVOVEC 5 × 10^12 vg/ml, solution à diluer pour injection",
        (("vorétigène néparvovec", "5 × 10^12 vg/ml"),),
        "solution à diluer pour injection",
        "sous-rétinienne",
        "Novartis Pharma",
        A.OPHTALMOLOGIE,
        amm=_d(2018, 11, 22),
        statuts=(
            Statut(
                TypeAcces.ATUN,
                _d(2018, 3, 1),
                (Ind("Dystrophie rétinienne liée à des mutations bialléliques du gène RPE65", rare=True),),
                etat=TERMINE,
                fin=_d(2018, 11, 22),
                put="",
            ),
        ),
    ),
    Produit(
        "TEDUGLUTIDE 1,25 mg, poudre et solvant pour solution injectable",
        (("téduglutide", "1,25 mg"),),
        "poudre et solvant pour solution injectable",
        "sous-cutanée",
        "Takeda France",
        A.GASTRO_ENTEROLOGIE,
        amm=_d(2012, 8, 30),
        hospitalier=False,
        statuts=(
            Statut(
                TypeAcces.CPC,
                -6,
                (
                    Ind(
                        "Syndrome de grêle court chez l'enfant de moins d'un an dépendant de la nutrition parentérale",
                        rare=True,
                    ),
                ),
                origine=OrigineSignalement.CENTRE_REFERENCE,
                etape=EtapeCPC.PUBLIE,
            ),
        ),
    ),
    Produit(
        "ACIDE OBETICHOLIQUE 10 mg, comprimé pelliculé",
        (("acide obéticholique", "10 mg"),),
        "comprimé pelliculé",
        "orale",
        "Advanz Pharma",
        A.GASTRO_ENTEROLOGIE,
        statuts=(
            Statut(
                TypeAcces.AAC,
                -30,
                (
                    Ind(
                        "Cholangite biliaire primitive en échec de l'acide ursodésoxycholique",
                        (ADULTE, "Phosphatases alcalines supérieures à 1,67 fois la normale après 12 mois d'AUDC"),
                    ),
                ),
                etat=TERMINE,
                fin=-10,
                conditions="Arrêté après la suspension de l'autorisation européenne.",
            ),
        ),
    ),
    Produit(
        "EMICIZUMAB 150 mg/ml, solution injectable",
        (("émicizumab", "150 mg/ml"),),
        "solution injectable",
        "sous-cutanée",
        "Roche",
        A.HEMATOLOGIE,
        mitm=True,
        amm=_d(2018, 2, 23),
        statuts=(
            Statut(
                TypeAcces.ATUC,
                _d(2017, 10, 2),
                (Ind("Hémophilie A avec inhibiteurs anti-facteur VIII", rare=True),),
                etat=TERMINE,
                fin=_d(2018, 2, 23),
                put="",
            ),
            Statut(
                TypeAcces.CPC,
                -34,
                (Ind("Hémophilie A acquise en relais du traitement hémostatique", rare=True),),
                origine=OrigineSignalement.CENTRE_REFERENCE,
                etape=EtapeCPC.PUBLIE,
                etat=TERMINE,
                fin=-2,
            ),
        ),
    ),
)


# --- Loading ----------------------------------------------------------------------------------------------------


def _pdf(titre: str, lignes: list[str]) -> bytes:
    """A one-page PDF of a few KB saying it is a demonstration document."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    tampon = io.BytesIO()
    page = canvas.Canvas(tampon, pagesize=A4, pageCompression=1)
    page.setTitle(titre)
    page.setAuthor("Référentiel AD — démonstration")
    page.setFont("Helvetica-Bold", 14)
    page.drawString(56, 780, titre[:90])
    page.setFont("Helvetica-Oblique", 10)
    page.drawString(56, 760, "Document de démonstration, sans valeur réglementaire : ne pas utiliser pour soigner.")
    page.setFont("Helvetica", 10)
    y = 730
    for ligne in lignes:
        for morceau in [ligne[i : i + 100] for i in range(0, len(ligne), 100)] or [""]:
            page.drawString(56, y, morceau)
            y -= 14
    page.showPage()
    page.save()
    return tampon.getvalue()


@dataclass
class _Contexte:
    aujourdhui: datetime.date
    numero: int = 0
    laboratoires: dict[str, Laboratoire] = field(default_factory=dict)

    def date(self, valeur):
        if valeur is None or isinstance(valeur, datetime.date):
            return valeur
        return ajouter_mois(self.aujourdhui, valeur)

    def laboratoire(self, nom: str) -> Laboratoire | None:
        if not nom:
            return None
        if nom not in self.laboratoires:
            self.laboratoires[nom], _ = Laboratoire.objects.get_or_create(nom=nom)
        return self.laboratoires[nom]


def _document(specialite, acces, type_document, titre, lignes, date):
    return services.document_ajouter(
        specialite=specialite,
        acces=acces,
        type_document=type_document,
        titre=titre,
        fichier=fichier_depuis_octets(_pdf(titre, lignes), f"{titre}.pdf"),
        date_document=date,
        version="1",
    )


def _rapports(ctx: _Contexte, produit: Produit, specialite, acces, statut: Statut, fin_acces) -> None:
    """The synthesis reports of past periods (R34): older ones validated and published, the last ones pending."""
    periodes, debut = [], acces.date_debut
    limite = min(fin_acces or ctx.aujourdhui, ctx.aujourdhui)
    while True:
        fin = ajouter_mois(debut, statut.periodicite) - datetime.timedelta(days=1)
        if fin > limite:
            break
        periodes.append((debut, fin))
        debut = fin + datetime.timedelta(days=1)
    patients = 12 + zlib.crc32(produit.nom.encode()) % 150
    for rang, (debut, fin) in enumerate(periodes[-3:]):
        echeance = ajouter_mois(fin, 2)
        rapport = services.rapport_creer(acces=acces, periode_debut=debut, periode_fin=fin, date_echeance=echeance)
        if echeance > ctx.aujourdhui and fin_acces is None:
            continue  # attendu
        reception = min(echeance - datetime.timedelta(days=10), ctx.aujourdhui)
        services.rapport_recevoir(rapport=rapport, date_reception=reception)
        dernier = rang == len(periodes[-3:]) - 1
        if dernier and fin_acces is None:
            if ctx.numero % 2:
                services.rapport_evaluer(rapport=rapport)
            continue  # reçu or en évaluation
        validation = min(ajouter_mois(reception, 1), ctx.aujourdhui)
        inclus = patients * (rang + 1)
        resume = (
            f"Période du {debut:%d/%m/%Y} au {fin:%d/%m/%Y} : {inclus} patients traités dans le cadre du "
            f"{acces.type_acces}. Aucun signal de sécurité nouveau ; les effets indésirables observés sont "
            "conformes au profil connu. Le rapport bénéfice/risque reste favorable dans l'indication."
        )
        services.rapport_valider(rapport=rapport, resume=resume, date_validation=validation)
        _document(
            specialite,
            acces,
            TypeDocument.RESUME_RAPPORT,
            f"Résumé du rapport de synthèse — {produit.dci[0][0]} — {fin:%m/%Y}",
            [resume[i : i + 100] for i in range(0, len(resume), 100)],
            validation,
        )


def _charger_produit(ctx: _Contexte, produit: Produit) -> Specialite:
    ctx.numero += 1
    amm = ctx.date(produit.amm)
    specialite = services.specialite_creer(
        nom=produit.nom,
        forme_pharmaceutique=produit.forme,
        voies_administration=produit.voie,
        titulaire=ctx.laboratoire(produit.titulaire),
        exploitant=ctx.laboratoire(produit.exploitant or produit.titulaire),
        code_atc=produit.atc,
        aire_therapeutique=produit.aire,
        mitm=produit.mitm,
        statut_amm=StatutAMM.AUTORISEE if amm else StatutAMM.AUCUNE,
        date_amm=amm,
        reserve_hospitalier=produit.hospitalier,
        retrocession=not produit.hospitalier,
        restriction_prescripteurs=produit.restriction,
        demonstration=True,
        compositions=[{"substance": dci, "dosage": dosage} for dci, dosage in produit.dci],
    )
    if amm:
        _document(
            specialite,
            None,
            TypeDocument.RCP,
            f"RCP — {produit.nom}",
            [f"Dénomination : {produit.nom}", f"Titulaire : {produit.titulaire}", f"AMM du {amm:%d/%m/%Y}"],
            amm,
        )
    precedent = None
    for statut in produit.statuts:
        debut, fin = ctx.date(statut.debut), ctx.date(statut.fin)
        en_cours_puis_fin = statut.amm is not None or statut.etat != EN_COURS
        acces = services.acces_creer(
            specialite=specialite,
            type_acces=statut.type,
            etat=EN_COURS if statut.amm is not None else statut.etat,
            # Only a historical status and the type that replaced it form a succession (ATUn → AAC ...).
            precedent=precedent if precedent and TYPE_SUCCESSEUR.get(precedent.type_acces) == statut.type else None,
            date_debut=debut,
            date_fin=None if statut.amm is not None else fin,
            date_prochain_renouvellement=(
                ajouter_mois(debut, 12 * ((ctx.aujourdhui - debut).days // 365 + 1))
                if statut.type == TypeAcces.AAP and statut.etat == EN_COURS
                else None
            ),
            phase_aap=statut.phase,
            date_decision_has=(debut - datetime.timedelta(days=10)) if statut.type == TypeAcces.AAP else None,
            riph_commerciale=statut.riph,
            engagement_aap=statut.riph,
            origine_signalement=statut.origine,
            etape_cpc=statut.etape,
            date_entree_vigueur_prevue=debut if statut.etape == EtapeCPC.TRANSMIS_TITULAIRE else None,
            conditions_utilisation=statut.conditions,
        )
        for ind in statut.indications:
            services.indication_creer(
                acces=acces,
                libelle=ind.libelle,
                criteres=ind.criteres,
                patients_eligibles=ind.patients,
                maladie_rare=ind.rare,
                publiee_le=debut,
            )
        if statut.prolongation:
            services.acces_prolonger_delai_aap(
                acces=acces,
                duree_mois=statut.prolongation,
                motif="Inclusions de l'essai de phase III plus lentes que prévu : dépôt de l'AAP reporté.",
            )
        if statut.put:
            type_put = TypePUT.PUT_RD if statut.type in (TypeAcces.AAP, TypeAcces.ATUC) else TypePUT.PUT_SP
            recueil = statut.put == "recueil"
            put = services.put_creer(
                acces=acces,
                type_put=type_put,
                recueil_nominatif=recueil,
                periodicite_rapports_mois=statut.periodicite if recueil else None,
                crpv=CRPV[ctx.numero % len(CRPV)],
                version="1",
                date_validation=debut,
            )
            _document(
                specialite,
                acces,
                TypeDocument.PUT,
                f"{type_put} — {produit.nom}",
                [
                    f"Protocole d'utilisation thérapeutique ({put.get_type_put_display()})",
                    "Avec recueil nominatif de données" if recueil else "Sans recueil nominatif de données",
                    f"CRPV en charge du suivi : {put.crpv}",
                ],
                debut,
            )
        if statut.amm is not None:
            # R24: the medicine got its AMM while in AAC; AAC stop at the cessation date.
            services.acces_enregistrer_amm(
                acces=acces, date_amm=ctx.date(statut.amm), date_cessation=ctx.date(statut.cessation)
            )
            if statut.etat == TERMINE:
                services.acces_changer_etat(acces=acces, etat=TERMINE, date_fin=ctx.date(statut.cessation))
            fin = ctx.date(statut.cessation) if statut.etat == TERMINE else None
        if statut.put == "recueil":
            _rapports(ctx, produit, specialite, acces, statut, fin if en_cours_puis_fin else None)
        precedent = acces
    return specialite


@transaction.atomic
def demo_charger() -> dict[str, int]:
    """Load the missing demonstration fiches; a second call changes nothing. Returns what it created."""
    from .selectors import demonstration_oublier

    ctx = _Contexte(aujourdhui=timezone.localdate())
    existantes = set(Specialite.objects.filter(demonstration=True).values_list("nom", flat=True))
    crees = 0
    for produit in PRODUITS:
        if produit.nom in existantes:
            continue
        _charger_produit(ctx, produit)
        crees += 1
    transaction.on_commit(demonstration_oublier)
    return {"specialites_creees": crees, "specialites_demonstration": len(existantes) + crees}


@transaction.atomic
def demo_supprimer() -> int:
    """Remove every demonstration fiche, its files, and the laboratories and substances only it used."""
    from .selectors import demonstration_oublier

    specialites = Specialite.objects.filter(demonstration=True)
    fichiers = list(Document.objects.filter(specialite__in=specialites).values_list("fichier", flat=True))
    noms_labos = {p.titulaire for p in PRODUITS} | {p.exploitant for p in PRODUITS if p.exploitant}
    dci = {nom for p in PRODUITS for nom, _ in p.dci}
    nombre = specialites.count()
    try:
        specialites.delete()
    except ProtectedError as exc:
        raise ReferentielError(
            "Des demandes d'AAC portent sur des spécialités de démonstration : supprimez-les avant le référentiel "
            "de démonstration."
        ) from exc
    Laboratoire.objects.filter(
        nom__in=noms_labos,
        specialites_titulaire__isnull=True,
        specialites_exploitant__isnull=True,
        utilisateurs__isnull=True,
    ).delete()
    Substance.objects.filter(dci__in=dci, code_bdpm__isnull=True, compositions__isnull=True).delete()
    transaction.on_commit(lambda: [default_storage.delete(nom) for nom in fichiers])
    transaction.on_commit(demonstration_oublier)
    return nombre
