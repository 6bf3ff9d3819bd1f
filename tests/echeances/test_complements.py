"""R14, R16: a question of the ANSM to the PUI or to a laboratory — a reminder at half the answer delay, and the
évaluateur told when the deadline passes without an answer."""

import datetime

import pytest

from demandes.enums import DestinataireComplement
from demandes.models import Complement
from demandes.tasks import complements_relancer
from tests.factories import DemandeFactory, LaboratoireFactory, UtilisateurFactory

from .conftest import PARIS, le, rappels

pytestmark = pytest.mark.django_db

POSEE = datetime.date(2026, 6, 1)
LIMITE = datetime.date(2026, 6, 21)  # 20 days: the reminder falls on 11 June
MI_DELAI = datetime.date(2026, 6, 11)


def question(demande, **champs):
    complement = demande.complements.get() if demande.complements.exists() else None
    valeurs = {
        "demande_le": datetime.datetime.combine(POSEE, datetime.time(15), tzinfo=PARIS),
        "date_limite": LIMITE,
        **champs,
    }
    if complement is None:
        complement = Complement.objects.create(
            demande=demande,
            question="Merci de transmettre les pièces.",
            demande_par=UtilisateurFactory(evaluateur=True),
            **valeurs,
        )
    else:
        Complement.objects.filter(pk=complement.pk).update(**valeurs)
        complement.refresh_from_db()
    return complement


@pytest.fixture
def a_la_pui():
    demande = DemandeFactory(complement_demande=True, patient_initiales="K.W.")
    return question(demande)


@pytest.fixture
def au_laboratoire():
    laboratoire = LaboratoireFactory(email="medical@labo.example")
    UtilisateurFactory(laboratoire_role=True, laboratoire=laboratoire, email="qualite@labo.example")
    demande = DemandeFactory(en_evaluation=True, non_reference=True)
    return question(
        demande,
        destinataire=DestinataireComplement.LABORATOIRE,
        laboratoire=laboratoire,
        pieces_demandees=["donnees_produit"],
    )


def test_r14_rappel_a_la_pui_et_au_prescripteur_a_mi_delai(a_la_pui):
    demande = a_la_pui.demande
    with le(MI_DELAI - datetime.timedelta(days=1)):
        assert complements_relancer() == {"rappels": 0, "escalades": 0}
    with le(MI_DELAI):
        assert complements_relancer() == {"rappels": 2, "escalades": 0}
        assert complements_relancer() == {"rappels": 0, "escalades": 0}
    envoyes = rappels(f"complement-mi-delai:{a_la_pui.pk}:")
    assert set(envoyes) == {demande.pui.email, demande.prescripteur.email}
    rappel = envoyes[demande.pui.email]
    assert (
        rappel.sujet == f"Rappel : réponse attendue par l'ANSM avant le 21/06/2026 (demande d'AAC {demande.reference})"
    )
    assert "la moitié du délai est écoulée. Répondez avant le 21/06/2026 (dans 10 jours)" in rappel.corps
    assert f"https://referentiel-ad.example/demandes/{demande.reference}/" in rappel.corps
    assert "K.W." not in rappel.corps


def test_r16_rappel_au_laboratoire_a_mi_delai(au_laboratoire):
    with le(MI_DELAI):
        assert complements_relancer()["rappels"] == 2
    envoyes = rappels(f"complement-mi-delai:{au_laboratoire.pk}:")
    assert set(envoyes) == {"medical@labo.example", "qualite@labo.example"}
    rappel = envoyes["medical@labo.example"]
    assert "demande d'information sur la demande d'AAC" in rappel.corps
    assert f"Répondre : https://referentiel-ad.example/laboratoire/informations/{au_laboratoire.pk}/" in rappel.corps
    assert au_laboratoire.demande.prescripteur.email not in envoyes


def test_r14_sans_reponse_a_la_date_limite_l_evaluateur_est_prevenu(a_la_pui, au_laboratoire):
    with le(LIMITE):  # the day of the deadline: the half-delay reminders (missed) go out, no escalation yet
        assert complements_relancer() == {"rappels": 2 + 2, "escalades": 0}
    with le(LIMITE + datetime.timedelta(days=1)):
        assert complements_relancer() == {"rappels": 0, "escalades": 2}
        assert complements_relancer() == {"rappels": 0, "escalades": 0}
    for complement, qui in ((a_la_pui, "la PUI"), (au_laboratoire, au_laboratoire.laboratoire.nom)):
        escalade = rappels(f"complement-retard:{complement.pk}:")
        assert list(escalade) == [complement.demande_par.email]
        corps = escalade[complement.demande_par.email].corps
        assert f"restée sans réponse de {qui} à la date limite du 21/06/2026" in corps
        assert f"https://referentiel-ad.example/ansm/demandes/{complement.demande.reference}/" in corps


def test_r14_une_question_repondue_n_est_ni_rappelee_ni_remontee(a_la_pui):
    Complement.objects.filter(pk=a_la_pui.pk).update(
        reponse="Deux lignes antérieures.", repondu_le=datetime.datetime(2026, 6, 5, tzinfo=PARIS)
    )
    for jour in (MI_DELAI, LIMITE + datetime.timedelta(days=1)):
        with le(jour):
            assert complements_relancer() == {"rappels": 0, "escalades": 0}
