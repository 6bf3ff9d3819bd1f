"""Each scheduled task is idempotent: run twice, or by two workers at the same time (two threads, each with its own
database connection), every reminder is queued and sent once — the outbox's unique key decides, not a check."""

import collections
import datetime
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from comptes.models import Notification
from demandes.tasks import aac_fins_traitement_rappeler
from referentiel.enums import EtatAcces, StatutRapport, TypePUT
from referentiel.models import AccesDerogatoire, RapportPeriodique
from referentiel.tasks import cpc_echeances_traiter, rapports_periodiques_traiter
from tests.factories import (
    AccesFactory,
    DemandeFactory,
    PUIFactory,
    PUTFactory,
    RapportFactory,
    UtilisateurFactory,
)
from tests.factories.gestion import CPCFactory

AUJOURD_HUI = datetime.date(2026, 6, 1)
NOMBRE = 40


def aac_dues(n: int = NOMBRE) -> list:
    """n grants ending in 30 days, for prescribers and PUIs spread over a few accounts (2 reminders each)."""
    prescripteurs = [UtilisateurFactory(prescripteur=True) for _ in range(3)]
    demandes = []
    for i in range(n):
        prescripteur = prescripteurs[i % 3]
        demande = DemandeFactory(
            octroyee=True, prescripteur=prescripteur, pui=PUIFactory(etablissement=prescripteur.etablissement)
        )
        demande.decision.date_debut = AUJOURD_HUI - datetime.timedelta(days=100)
        demande.decision.date_fin_traitement = AUJOURD_HUI + datetime.timedelta(days=30)
        demande.decision.save()
        demandes.append(demande)
    return demandes


def en_parallele(tache, *args, **kwargs) -> list:
    """Run `tache` in two threads released at the same instant; each thread has its own database connection."""
    depart = threading.Barrier(2)
    resultats, erreurs = [], []

    def executer():
        try:
            depart.wait()
            resultats.append(tache(*args, **kwargs))
        except BaseException as exc:  # re-raised in the test's thread
            erreurs.append(exc)
        finally:
            connection.close()

    fils = [threading.Thread(target=executer) for _ in range(2)]
    for f in fils:
        f.start()
    for f in fils:
        f.join(timeout=120)
    assert not erreurs, erreurs
    assert len(resultats) == 2
    return resultats


def envoyes_une_fois(attendus: int) -> None:
    """Every outbox row sent once, and as many emails left as rows (one per key)."""
    lignes = list(Notification.objects.all())
    assert len(lignes) == attendus
    assert len({n.cle for n in lignes}) == attendus
    assert all(n.envoye_le is not None and n.tentatives == 1 for n in lignes)
    emails = collections.Counter((m.to[0], m.subject) for m in mail.outbox)
    assert sum(emails.values()) == attendus and set(emails.values()) == {1}


@pytest.mark.django_db
def test_la_meme_tache_lancee_deux_fois_n_envoie_chaque_rappel_qu_une_fois(django_capture_on_commit_callbacks):
    aac_dues(5)
    with django_capture_on_commit_callbacks(execute=True):
        premier = aac_fins_traitement_rappeler(aujourd_hui=AUJOURD_HUI.isoformat())
        second = aac_fins_traitement_rappeler(aujourd_hui=AUJOURD_HUI.isoformat())
    assert (premier, second) == ({"rappels": 10}, {"rappels": 0})
    envoyes_une_fois(10)


@pytest.mark.django_db(transaction=True)
def test_deux_workers_en_parallele_envoient_chaque_rappel_de_fin_de_traitement_une_fois():
    aac_dues()
    resultats = en_parallele(aac_fins_traitement_rappeler, aujourd_hui=AUJOURD_HUI.isoformat(), taille_lot=7)
    # The two runs share the work, whatever the interleaving: together they queued each reminder once.
    assert sum(r["rappels"] for r in resultats) == 2 * NOMBRE
    envoyes_une_fois(2 * NOMBRE)


@pytest.mark.django_db(transaction=True)
def test_deux_workers_en_parallele_terminent_un_cpc_echu_une_fois():
    UtilisateurFactory(evaluateur=True)
    aujourd_hui = timezone.localdate()
    cpc = CPCFactory(
        publie=True, date_debut=aujourd_hui - datetime.timedelta(days=1100), date_fin=aujourd_hui.replace(day=1)
    )
    resultats = en_parallele(cpc_echeances_traiter, aujourd_hui=aujourd_hui.isoformat())
    assert sorted(r["cpc_termines"] for r in resultats) == [0, 1]
    assert AccesDerogatoire.objects.get(pk=cpc.pk).etat == EtatAcces.TERMINE
    assert cpc.specialite.historique.filter(action="Fin du CPC").count() == 1


@pytest.mark.django_db(transaction=True)
def test_deux_workers_en_parallele_creent_le_rapport_suivant_une_fois():
    acces = AccesFactory()
    PUTFactory(acces=acces, type_put=TypePUT.PUT_SP, periodicite_rapports_mois=3)
    RapportFactory(acces=acces, statut=StatutRapport.RECU, date_reception=datetime.date(2024, 9, 1))
    resultats = en_parallele(rapports_periodiques_traiter, aujourd_hui=AUJOURD_HUI.isoformat())
    assert sorted(r["rapports_crees"] for r in resultats) == [0, 1]
    assert RapportPeriodique.objects.filter(acces=acces, statut=StatutRapport.ATTENDU).count() == 1
