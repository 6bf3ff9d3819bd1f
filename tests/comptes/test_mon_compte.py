"""« Mon compte »: identity, role and attachments; the download of everything held about oneself (issue 7)."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import ProgrammingError, transaction
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from comptes.enums import TypeEvenementCompte
from comptes.models import EvenementCompte, Notification
from comptes.services import evenement_compte_enregistrer
from tests.conftest import connecter
from tests.factories import EtablissementFactory, PUIFactory, UtilisateurFactory
from tests.factories.comptes import MOT_DE_PASSE

pytestmark = pytest.mark.django_db


def _texte(reponse) -> str:
    """The HTML with whitespace runs collapsed, so that assertions do not depend on template indentation."""
    return " ".join(reponse.content.decode().split())


def test_la_page_mon_compte_montre_identite_role_et_rattachement_d_un_pharmacien(client):
    pui = PUIFactory(nom="PUI Saint-Louis", etablissement=EtablissementFactory(nom="Hôpital Saint-Louis"))
    pharmacien = UtilisateurFactory(pharmacien=True, pui=pui, prenom="Karim", nom="Benali", rpps="10003650719")
    connecter(client, pharmacien)
    html = _texte(client.get(reverse("comptes:mon_compte")))
    assert "<dd> Karim Benali </dd>" in html
    assert '<span class="fr-badge fr-badge--info fr-badge--no-icon">Pharmacien (PUI)</span>' in html
    assert "<dt>Numéro RPPS</dt> <dd> 10003650719 </dd>" in html
    assert "Hôpital Saint-Louis, Paris" in html
    assert f"FINESS {pui.etablissement.finess} — France métropolitaine" in html
    assert "PUI Saint-Louis" in html
    assert "Second facteur" not in html
    assert f'href="{reverse("comptes:mes_donnees")}"' in html


def test_la_page_mon_compte_d_un_laboratoire_et_d_un_agent(client):
    labo = UtilisateurFactory(laboratoire_role=True, laboratoire__nom="Laboratoires Servane")
    connecter(client, labo)
    html = _texte(client.get("/comptes/mon-compte/"))
    assert "<dt>Laboratoire</dt> <dd> Laboratoires Servane </dd>" in html
    client.logout()
    connecter(client, UtilisateurFactory(evaluateur=True))
    html = client.get("/comptes/mon-compte/").content.decode()
    assert "Évaluateur ANSM" in html and "Second facteur : application d'authentification enregistrée le" in html
    assert 'id="compte-rattachement"' not in html


def test_la_page_mon_compte_tient_en_une_requete_pour_le_compte(client, django_assert_num_queries):
    connecter(client, UtilisateurFactory(pharmacien=True))
    # Session, user, the account with all its attachments in one join, the demonstration banner, then the session
    # saved again (inactivity expiry pushed back) in a savepoint.
    with django_assert_num_queries(7):
        client.get(reverse("comptes:mon_compte"))


def test_l_en_tete_mene_a_mon_compte(client):
    connecter(client, UtilisateurFactory(prescripteur=True, prenom="Claire", nom="Martin"))
    html = client.get("/").content.decode()
    assert 'href="/comptes/mon-compte/"\n         id="utilisateur-connecte">Claire Martin — Prescripteur</a>' in html


def test_mon_compte_demande_d_etre_connecte(client):
    for url in (reverse("comptes:mon_compte"), reverse("comptes:mes_donnees")):
        reponse = client.get(url)
        assert reponse.status_code == 302 and reponse.url.startswith("/comptes/connexion/?next=")


def test_telecharger_mes_donnees_donne_tout_sauf_les_secrets_et_journalise_le_telechargement(client):
    prescripteur = UtilisateurFactory(prescripteur=True, email="claire@chu.example", prenom="Claire")
    autre = UtilisateurFactory(prescripteur=True, email="autre@chu.example")
    Notification.objects.create(destinataire="claire@chu.example", sujet="Demande transmise", corps="Bonjour")
    Notification.objects.create(destinataire="autre@chu.example", sujet="Pas pour Claire", corps="…")
    client.post(reverse("comptes:connexion"), {"username": "claire@chu.example", "password": "faux"})
    client.post(reverse("comptes:connexion"), {"username": "claire@chu.example", "password": MOT_DE_PASSE})

    reponse = client.get(reverse("comptes:mes_donnees"))

    assert reponse["Content-Type"] == "application/json; charset=utf-8"
    assert reponse["Content-Disposition"].startswith('attachment; filename="mes-donnees-referentiel-ad-')
    texte = reponse.content.decode()
    donnees = json.loads(texte)
    assert donnees["service"] == "Référentiel AD"
    assert donnees["compte"]["email"] == "claire@chu.example"
    assert donnees["compte"]["rpps"] == prescripteur.rpps
    assert donnees["compte"]["role_libelle"] == "Prescripteur"
    assert donnees["compte"]["mot_de_passe"] == "défini (l'empreinte n'est pas communiquée)"
    assert donnees["rattachements"]["etablissement"]["finess"] == prescripteur.etablissement.finess
    assert [c["sujet"] for c in donnees["courriels"]["lignes"]] == ["Demande transmise"]
    assert donnees["connexions"]["nombre"] == 1
    assert donnees["echecs_de_connexion"]["nombre"] == 1
    # The journal row of this very download is part of the export.
    journal = donnees["donnees_liees"]["comptes.evenementcompte.utilisateur"]["lignes"]
    assert [ligne["type"] for ligne in journal] == [TypeEvenementCompte.EXPORT_DONNEES]
    assert "pbkdf2" not in texte and prescripteur.password not in texte
    assert "autre@chu.example" not in texte and autre.rpps not in texte
    evenement = EvenementCompte.objects.get(utilisateur=prescripteur)
    assert evenement.type == TypeEvenementCompte.EXPORT_DONNEES and evenement.adresse_ip == "127.0.0.1"


def test_l_export_d_un_agent_ne_contient_pas_la_cle_de_son_second_facteur(client):
    evaluateur = UtilisateurFactory(evaluateur=True)
    connecter(client, evaluateur)
    appareil = TOTPDevice.objects.get(user=evaluateur)
    texte = client.get(reverse("comptes:mes_donnees")).content.decode()
    appareils = json.loads(texte)["donnees_liees"]["otp_totp.totpdevice.user"]["lignes"]
    assert [a["name"] for a in appareils] == ["Application de test"]
    assert "key" not in appareils[0]
    assert appareil.key not in texte


def test_le_journal_des_comptes_refuse_modification_et_suppression():
    evenement = evenement_compte_enregistrer(
        utilisateur=UtilisateurFactory(), type_evenement=TypeEvenementCompte.EXPORT_DONNEES
    )
    with pytest.raises(ProgrammingError, match="Le journal des comptes est en ajout seul : UPDATE interdit"):
        with transaction.atomic():
            EvenementCompte.objects.filter(pk=evenement.pk).update(type=TypeEvenementCompte.MOT_DE_PASSE_MODIFIE)
    with pytest.raises(ProgrammingError, match="Le journal des comptes est en ajout seul : DELETE interdit"):
        with transaction.atomic():
            EvenementCompte.objects.filter(pk=evenement.pk).delete()
    assert EvenementCompte.objects.get(pk=evenement.pk).type == TypeEvenementCompte.EXPORT_DONNEES


def test_un_pharmacien_est_rattache_a_l_etablissement_de_sa_pui():
    pui = PUIFactory()
    pharmacien = UtilisateurFactory.build(
        pharmacien=True, pui=pui, etablissement=None, email="Ph.Nouveau@CHU.example", rpps="10003650719"
    )
    pharmacien.full_clean(exclude=["password"])
    assert pharmacien.etablissement_id == pui.etablissement_id
    assert pharmacien.email == "ph.nouveau@chu.example"
    pharmacien.etablissement = EtablissementFactory()
    with pytest.raises(ValidationError) as erreur:
        pharmacien.full_clean(exclude=["password"])
    assert erreur.value.message_dict["pui"] == ["Cette PUI appartient à un autre établissement que celui du compte."]


def test_la_page_donnees_personnelles_mene_au_telechargement(client):
    html = _texte(client.get(reverse("footer-personal-data")))
    assert f'<a href="{reverse("comptes:mon_compte")}">votre compte</a> (« Télécharger mes données »)' in html
    assert "Les sessions expirent après 30 minutes d'inactivité." in html
