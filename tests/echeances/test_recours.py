"""R19: a decision can be appealed within 2 months of its notification — after that day, the appeal action is no
longer offered and the service refuses it (frozen clock)."""

import datetime

import pytest

from demandes import selectors, services
from demandes.enums import MotifRefus
from demandes.exceptions import DemandeError
from tests.conftest import connecter
from tests.factories import DemandeFactory, UtilisateurFactory

from .conftest import le

pytestmark = pytest.mark.django_db

NOTIFICATION = datetime.date(2026, 3, 31)
DERNIER_JOUR = datetime.date(2026, 5, 31)  # 2 months after 31 March


@pytest.fixture
def refusee():
    demande = DemandeFactory(en_evaluation=True)
    with le(NOTIFICATION, heure=11):
        services.demande_refuser(
            demande=demande,
            par=UtilisateurFactory(evaluateur=True),
            version=demande.version,
            motif=MotifRefus.DONNEES_INSUFFISANTES,
        )
    demande.refresh_from_db()
    return demande


def _actions(demande) -> set[str]:
    demande = selectors.demande_detail(demande.prescripteur, demande.reference)
    return {t.nom for t in selectors.actions_disponibles(demande.prescripteur, demande)}


def test_r19_le_delai_de_recours_court_2_mois_depuis_la_notification(refusee):
    assert refusee.decision.date_limite_recours == DERNIER_JOUR


def test_r19_l_action_de_recours_est_offerte_jusqu_au_dernier_jour_inclus(refusee, client):
    with le(DERNIER_JOUR, heure=23):
        connecter(client, refusee.prescripteur)
        assert "former_recours" in _actions(refusee)
        assert 'id="action-former_recours"' in client.get(f"/demandes/{refusee.reference}/").content.decode()


def test_r19_l_action_de_recours_disparait_le_lendemain_et_le_service_le_refuse(refusee, client):
    with le(DERNIER_JOUR + datetime.timedelta(days=1), heure=0):
        connecter(client, refusee.prescripteur)
        assert "former_recours" not in _actions(refusee)
        page = client.get(f"/demandes/{refusee.reference}/").content.decode()
        assert 'id="action-former_recours"' not in page and "Former un recours gracieux" not in page
        with pytest.raises(DemandeError) as erreur:
            services.recours_former(
                demande=refusee, par=refusee.prescripteur, version=refusee.version, motif="Éléments nouveaux."
            )
    assert erreur.value.regle == "R19"
    assert "délai de recours de 2 mois" in erreur.value.texte
    assert not refusee.recours.exists()
