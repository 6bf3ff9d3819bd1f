"""Concurrent actions on one request (two tabs, two pharmacists) cannot both succeed: the row lock serialises them
and the second gets the French conflict message instead of overwriting the first."""

import threading

import pytest
from django.db import connection

from demandes import services
from demandes.enums import StatutDemande
from demandes.exceptions import MESSAGE_CONFLIT, ConflitEtat
from demandes.models import Decision, DemandeAAC, JournalDemande
from tests.factories import DemandeFactory, UtilisateurFactory

pytestmark = pytest.mark.django_db(transaction=True)


def en_parallele(*actions):
    """Run each action in its own thread (its own database connection), released together; returns each
    outcome: "ok" or the DemandeError raised."""
    depart = threading.Barrier(len(actions))
    resultats = [None] * len(actions)

    def executer(index, action):
        try:
            depart.wait(timeout=10)
            action()
            resultats[index] = "ok"
        except ConflitEtat as exc:
            resultats[index] = exc
        finally:
            connection.close()

    fils = [threading.Thread(target=executer, args=(i, a)) for i, a in enumerate(actions)]
    for f in fils:
        f.start()
    for f in fils:
        f.join(timeout=30)
    return resultats


def test_deux_pharmaciens_soumettent_la_meme_demande_un_seul_reussit(heures_ouvrees):
    demande = DemandeFactory(transmise=True)
    pharmaciens = [
        UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement) for _ in range(2)
    ]
    version = demande.version
    resultats = en_parallele(
        *[(lambda p=p: services.demande_soumettre(demande=demande, par=p, version=version)) for p in pharmaciens]
    )
    assert resultats.count("ok") == 1
    (perdant,) = [r for r in resultats if r != "ok"]
    assert perdant.texte == MESSAGE_CONFLIT and perdant.statut_http == 409
    demande.refresh_from_db()
    assert demande.statut == StatutDemande.OCTROYEE
    assert Decision.objects.filter(demande=demande).count() == 1
    assert list(JournalDemande.objects.filter(demande=demande).values_list("transition", flat=True)) == [
        "soumettre",
        "octroyer_immediatement",
    ]


def test_renvoyer_et_soumettre_en_meme_temps_une_seule_action_passe():
    demande = DemandeFactory(transmise=True, criteres=[True, False], justification="Justifiée.")
    pharmaciens = [
        UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement) for _ in range(2)
    ]
    version = demande.version
    resultats = en_parallele(
        lambda: services.demande_renvoyer(demande=demande, par=pharmaciens[0], version=version, commentaire="Poids ?"),
        lambda: services.demande_soumettre(demande=demande, par=pharmaciens[1], version=version),
    )
    assert sorted(r if r == "ok" else "conflit" for r in resultats) == ["conflit", "ok"]
    demande.refresh_from_db()
    attendu = StatutDemande.RENVOYEE if resultats[0] == "ok" else StatutDemande.EN_EVALUATION
    assert demande.statut == attendu and demande.version == version + 1
    assert JournalDemande.objects.filter(demande=demande).count() == 1


def test_deux_onglets_enregistrent_la_meme_etape_le_second_ne_l_ecrase_pas():
    demande = DemandeFactory(posologie="1 comprimé")
    version = demande.version
    resultats = en_parallele(
        lambda: services.demande_modifier(
            demande=demande, par=demande.prescripteur, version=version, donnees={"posologie": "Onglet A"}
        ),
        lambda: services.demande_modifier(
            demande=demande, par=demande.prescripteur, version=version, donnees={"posologie": "Onglet B"}
        ),
    )
    assert resultats.count("ok") == 1
    gagnant = "Onglet A" if resultats[0] == "ok" else "Onglet B"
    assert DemandeAAC.objects.get(pk=demande.pk).posologie == gagnant
    assert [r for r in resultats if r != "ok"][0].texte.startswith("La demande a été modifiée entre-temps")


def test_un_double_envoi_simultane_avec_la_meme_cle_cree_une_seule_demande():
    from tests.factories import AccesFactory

    prescripteur = UtilisateurFactory(prescripteur=True)
    specialite = AccesFactory().specialite
    crees = []

    def creer():
        demande, cree = services.demande_creer(
            par=prescripteur,
            donnees={"type_medicament": "reference_indication", "specialite": specialite},
            cle_idempotence="double-clic",
        )
        crees.append((demande.pk, cree))

    assert en_parallele(creer, creer) == ["ok", "ok"]
    assert DemandeAAC.objects.filter(prescripteur=prescripteur).count() == 1
    assert sorted(c for _, c in crees) == [False, True]
    assert len({pk for pk, _ in crees}) == 1
