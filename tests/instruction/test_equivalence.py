"""An évaluateur's decision from the review page produces the same journal rows, the same decision PDF and the same
emails as the same decision through the API: two identical requests, one decided on each channel."""

import pytest
from django.urls import reverse

from comptes.models import Notification
from demandes.enums import MotifRefus
from demandes.models import Decision
from tests.conftest import connecter
from tests.factories import DemandeFactory, IndicationFactory, PUIFactory, UtilisateurFactory

from .conftest import texte_decision

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Une seule ligne antérieure ; aucune alternative appropriée."


@pytest.fixture
def jumelles(db):
    """Two requests alike in everything but their reference: same prescriber, PUI, medicine, patient."""
    indication = IndicationFactory()
    prescripteur = UtilisateurFactory(prescripteur=True, prenom="Claire", nom="Martin", telephone="0102030405")
    pui = PUIFactory(etablissement=prescripteur.etablissement, nom="PUI du CHU")
    commun = {
        "en_evaluation": True,
        "indication": indication,
        "prescripteur": prescripteur,
        "pui": pui,
        "criteres": [True, False],
        "justification": JUSTIFICATION,
    }
    return DemandeFactory(**commun), DemandeFactory(**commun)


def _journal(demande) -> list[tuple]:
    return [
        (e.transition, e.role, e.acteur_id, e.statut_avant, e.statut_apres, e.commentaire, sorted(e.details))
        for e in demande.journal.order_by("le", "id")
    ]


def _neutre(texte: str, demande, decision) -> str:
    """The text with what must differ between two decisions (their numbers) replaced by placeholders."""
    texte = texte.replace(decision.reference, "<DECISION>").replace(demande.reference, "<DEMANDE>")
    return texte.replace(decision.numero_aac, "<AAC>") if decision.numero_aac else texte


def _courriels(demande, decision) -> list[tuple[str, str, str]]:
    return sorted(
        (n.destinataire, _neutre(n.sujet, demande, decision), _neutre(n.corps, demande, decision))
        for n in Notification.objects.filter(sujet__contains=demande.reference)
    )


DECISIONS = {
    "octroyer": (
        {
            "duree_jours": 90,
            "reserve_hospitalier": "oui",
            "restriction_prescripteurs": "Prescription réservée aux hématologues",
            "commentaire": "Réévaluation à 3 mois.",
        },
        {
            "duree_jours": 90,
            "reserve_hospitalier": True,
            "restriction_prescripteurs": "Prescription réservée aux hématologues",
            "commentaire": "Réévaluation à 3 mois.",
        },
    ),
    "refuser": (
        {"motif": MotifRefus.AUTRE, "motif_texte": "Posologie hors des données.", "commentaire": "À rediscuter."},
        {
            "motif_refus": MotifRefus.AUTRE,
            "motif_refus_texte": "Posologie hors des données.",
            "commentaire": "À rediscuter.",
        },
    ),
}


@pytest.mark.parametrize("action", ["octroyer", "refuser"])
def test_la_decision_de_la_page_d_instruction_egale_celle_de_l_api(client, jumelles, action):
    par_page, par_api = jumelles
    evaluateur = connecter(client, UtilisateurFactory(evaluateur=True, prenom="Sophie", nom="Leroy"))
    laboratoire = par_page.specialite.titulaire
    champs_page, champs_api = DECISIONS[action]
    if action == "octroyer":
        champs_page = {**champs_page, "laboratoire": laboratoire.pk}
        champs_api = {**champs_api, "laboratoire": laboratoire.pk}

    reponse = client.post(
        reverse("ansm:instruction_action", args=[par_page.reference, action]),
        {f"{action}-version": par_page.version, **{f"{action}-{k}": v for k, v in champs_page.items()}},
    )
    assert reponse.status_code == 302 and reponse.url == f"/ansm/demandes/{par_page.reference}/"
    reponse = client.post(
        f"/api/v1/demandes/{par_api.reference}/{action}/",
        {"version": par_api.version, **champs_api},
        content_type="application/json",
    )
    assert reponse.status_code == 200, reponse.content

    par_page.refresh_from_db()
    par_api.refresh_from_db()
    assert par_page.statut == par_api.statut == ("octroyee" if action == "octroyer" else "refusee")
    assert par_page.version == par_api.version
    assert par_page.evaluateur == par_api.evaluateur == evaluateur
    # The same journal rows: transition, role, actor, states, comment, details' keys.
    assert _journal(par_page) == _journal(par_api)
    assert _journal(par_page)[-1][:5] == (action, "evaluateur", evaluateur.pk, "en_evaluation", par_page.statut)

    decision_page, decision_api = Decision.objects.get(demande=par_page), Decision.objects.get(demande=par_api)
    for champ in (
        "sens",
        "immediate",
        "duree_jours",
        "date_debut",
        "date_fin_traitement",
        "laboratoire_id",
        "reserve_hospitalier",
        "retrocession",
        "restriction_prescripteurs",
        "motif_refus",
        "motif_refus_texte",
        "commentaire",
        "date_limite_recours",
        "decidee_par_id",
    ):
        assert getattr(decision_page, champ) == getattr(decision_api, champ), champ
    # The same PDF, but for the request's and the decision's numbers.
    texte_page = _neutre(texte_decision(decision_page), par_page, decision_page)
    texte_api = _neutre(texte_decision(decision_api), par_api, decision_api)
    assert texte_page == texte_api
    assert "Claire Martin" in texte_page and "PUI du CHU" in texte_page
    if action == "octroyer":
        assert "Numéro d'AAC <AAC>" in texte_page and "Durée de traitement 90 jour(s)" in texte_page
    else:
        assert "Motif du refus Autre motif : Posologie hors des données." in texte_page
    # The same emails to the same people.
    assert _courriels(par_page, decision_page) == _courriels(par_api, decision_api)
    assert len(_courriels(par_page, decision_page)) >= 2
