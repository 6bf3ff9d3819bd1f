"""A known data set of ten requests (dates, decisions, medicines chosen so that every figure is known by hand) and
ANSM staff logged in with their second factor."""

import datetime

import pytest
from django.utils import timezone

from demandes.enums import MotifRefus, SensDecision, Urgence
from tests.conftest import connecter
from tests.factories import DecisionFactory, DemandeFactory, IndicationFactory, UtilisateurFactory

PARIS = timezone.get_fixed_timezone(60)  # winter time in Paris: the data set's dates are all in winter
MAINTENANT = datetime.datetime(2026, 4, 1, 12, 0, tzinfo=timezone.get_fixed_timezone(120))


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def client_ansm(client, db):
    connecter(client, UtilisateurFactory(evaluateur=True))
    return client


def le(mois: int, jour: int, annee: int = 2026) -> datetime.datetime:
    return datetime.datetime(annee, mois, jour, 10, 0, tzinfo=PARIS)


def decidee(indication=None, *, soumise, delai_jours, sens, immediate=False, motif="", **traits):
    """A request submitted at `soumise` and decided `delai_jours` later."""
    decision_le = soumise + datetime.timedelta(days=delai_jours)
    statut = {"octroyee": True} if sens == SensDecision.OCTROI else {"refusee": True}
    if indication is not None:
        traits["indication"] = indication
    demande = DemandeFactory(**statut, **traits, soumise_le=soumise, decidee_le=decision_le, etat=False)
    DecisionFactory(
        demande=demande,
        sens=sens,
        immediate=immediate,
        date_decision=decision_le,
        motif_refus=motif if sens == SensDecision.REFUS else "",
    )
    return demande


@pytest.fixture
def jeu_de_donnees(db):
    """Ten requests between December 2025 and March 2026:

    | # | medicine | submitted  | decision                         | delay (days) |
    |---|----------|------------|----------------------------------|--------------|
    | 1 | ALPHAMAB | 05/01/2026 | immediate grant 05/01            | 0            |
    | 2 | ALPHAMAB | 10/01/2026 | immediate grant 10/01            | 0            |
    | 3 | ALPHAMAB | 20/01/2026 | grant 30/01                      | 10           |
    | 4 | BETAMAB  | 01/02/2026 | grant 21/02                      | 20           |
    | 5 | BETAMAB  | 03/02/2026 | refusal (insufficient data) 05/03| 30           |
    | 6 | XB-4021  | 10/02/2026 | refusal (alternative) 15/02      | 5            |
    | 7 | ALPHAMAB | 01/03/2026 | refusal (insufficient data) 16/03| 15           |
    | 8 | BETAMAB  | 05/03/2026 | waiting (27 days on 01/04)       |              |
    | 9 | ALPHAMAB | 20/03/2026 | waiting, urgence vitale (12 days)|              |
    |10 | ALPHAMAB | 20/12/2025 | grant 04/01/2026                 | 15           |

    and one request never submitted (not counted anywhere).
    """
    alpha = IndicationFactory(acces__specialite__nom="ALPHAMAB 10 mg, comprimé")
    beta = IndicationFactory(acces__specialite__nom="BETAMAB 5 mg/mL, solution injectable")
    octroi, refus = SensDecision.OCTROI, SensDecision.REFUS
    decidee(alpha, soumise=le(1, 5), delai_jours=0, sens=octroi, immediate=True)
    decidee(alpha, soumise=le(1, 10), delai_jours=0, sens=octroi, immediate=True)
    decidee(alpha, soumise=le(1, 20), delai_jours=10, sens=octroi)
    decidee(beta, soumise=le(2, 1), delai_jours=20, sens=octroi)
    decidee(beta, soumise=le(2, 3), delai_jours=30, sens=refus, motif=MotifRefus.DONNEES_INSUFFISANTES)
    decidee(soumise=le(2, 10), delai_jours=5, sens=refus, motif=MotifRefus.ALTERNATIVE_AMM, non_reference=True)
    decidee(alpha, soumise=le(3, 1), delai_jours=15, sens=refus, motif=MotifRefus.DONNEES_INSUFFISANTES)
    DemandeFactory(en_evaluation=True, indication=beta, soumise_le=le(3, 5))
    DemandeFactory(complement_fourni=True, indication=alpha, soumise_le=le(3, 20), urgence=Urgence.VITALE)
    decidee(alpha, soumise=le(12, 20, 2025), delai_jours=15, sens=octroi)
    DemandeFactory(transmise=True, indication=alpha)
    return alpha, beta
