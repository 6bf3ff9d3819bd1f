"""The pages: "Mes demandes", the PUI inbox, the ANSM list (constant query counts), the multi-step form that saves
the draft at every step, a stale form refused with the French conflict message, the request page and its actions."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from demandes.enums import StatutDemande
from demandes.models import AccesDonneesPatient, DemandeAAC
from tests.conftest import connecter
from tests.factories import CritereFactory, DemandeFactory, IndicationFactory, PUIFactory, UtilisateurFactory
from tests.factories.referentiel import indexer_specialites

pytestmark = pytest.mark.django_db


def html(reponse) -> str:
    return reponse.content.decode()


def sans_inline(page: str) -> None:
    """CSP: no inline script or style attribute in our pages."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert ' style="' not in page


# --- Lists ----------------------------------------------------------------------------------------------------------


def test_mes_demandes_liste_les_demandes_du_prescripteur_avec_leur_etat(client):
    prescripteur = UtilisateurFactory(prescripteur=True)
    brouillon = DemandeFactory(prescripteur=prescripteur)
    octroyee = DemandeFactory(prescripteur=prescripteur, octroyee=True)
    autre = DemandeFactory()
    connecter(client, prescripteur)
    page = html(client.get(reverse("demandes:espace")))
    assert '<h1 class="fr-mb-1w">Mes demandes</h1>' in page
    assert f'<a href="/demandes/{brouillon.reference}/">{brouillon.reference}</a>' in page
    assert '<p class="fr-badge fr-badge--sm fr-badge--success">Octroyée</p>' in page
    assert octroyee.reference in page and autre.reference not in page
    assert "2 demandes" in page
    # No patient data in a list (lists are not logged as patient-data reads).
    assert brouillon.patient_initiales not in page
    sans_inline(page)


def test_mes_demandes_filtre_par_etat_et_par_medicament(client):
    prescripteur = UtilisateurFactory(prescripteur=True)
    a = DemandeFactory(prescripteur=prescripteur, indication__acces__specialite__nom="ALPHAMAB 10 mg")
    b = DemandeFactory(prescripteur=prescripteur, transmise=True, indication__acces__specialite__nom="BETAMAB 5 mg")
    connecter(client, prescripteur)
    page = html(client.get(reverse("demandes:espace"), {"statut": "transmise_pharmacien"}))
    assert b.reference in page and a.reference not in page
    page = html(client.get(reverse("demandes:espace"), {"q": "alphamab"}))
    assert a.reference in page and b.reference not in page


@pytest.mark.parametrize("nombre", [3, 25])
def test_mes_demandes_nombre_de_requetes_constant(client, django_assert_num_queries, nombre):
    prescripteur = UtilisateurFactory(prescripteur=True)
    DemandeFactory.create_batch(nombre, prescripteur=prescripteur, etablissement=prescripteur.etablissement)
    connecter(client, prescripteur)
    client.get(reverse("demandes:espace"))  # warm the per-process caches (demonstration flag)
    # session, user, count, page of rows; then the session's expiry pushed back (savepoint, update, release)
    with django_assert_num_queries(7):
        reponse = client.get(reverse("demandes:espace"))
    assert reponse.status_code == 200 and f"{nombre} demandes" in html(reponse)


@pytest.mark.parametrize("nombre", [3, 25])
def test_boite_pui_nombre_de_requetes_constant_et_onglets(client, django_assert_num_queries, nombre):
    pui = PUIFactory()
    pharmacien = UtilisateurFactory(pharmacien=True, pui=pui, etablissement=pui.etablissement)
    prescripteur = UtilisateurFactory(prescripteur=True, etablissement=pui.etablissement)
    DemandeFactory.create_batch(nombre, prescripteur=prescripteur, pui=pui, transmise=True)
    fini = DemandeFactory(prescripteur=prescripteur, pui=pui, octroyee=True)
    brouillon = DemandeFactory(prescripteur=prescripteur, pui=pui)
    connecter(client, pharmacien)
    client.get(reverse("demandes:boite_pui"))
    # the same 7 as "Mes demandes", plus whether the pharmacist is named elsewhere and their PUI (title)
    with django_assert_num_queries(9):
        reponse = client.get(reverse("demandes:boite_pui"))
    page = html(reponse)
    assert f"{nombre} demandes" in page and fini.reference not in page and brouillon.reference not in page
    toutes = html(client.get(reverse("demandes:boite_pui"), {"onglet": "toutes"}))
    assert fini.reference in toutes and brouillon.reference not in toutes  # a draft stays with its prescriber
    assert 'aria-current="page">Toutes les demandes</a>' in toutes


def test_un_pharmacien_nomme_sur_une_demande_d_une_autre_pui_la_voit_dans_sa_boite(client):
    demande = DemandeFactory(transmise=True)
    pharmacien = UtilisateurFactory(pharmacien=True)  # works in another PUI now
    DemandeAAC.objects.filter(pk=demande.pk).update(pharmacien=pharmacien)
    de_sa_pui = DemandeFactory(
        transmise=True, pui=pharmacien.pui, prescripteur__etablissement=pharmacien.etablissement
    )
    connecter(client, pharmacien)
    page = html(client.get(reverse("demandes:boite_pui")))
    assert demande.reference in page and de_sa_pui.reference in page


def test_l_espace_renvoie_chaque_role_vers_sa_liste(client):
    connecter(client, UtilisateurFactory(pharmacien=True))
    assert client.get(reverse("demandes:espace")).url == reverse("demandes:boite_pui")
    connecter(client, UtilisateurFactory(evaluateur=True))
    assert client.get(reverse("demandes:espace")).url == reverse("ansm:demandes")
    connecter(client, UtilisateurFactory(laboratoire_role=True))
    assert client.get(reverse("demandes:espace")).status_code == 403


def test_l_ancienne_liste_ansm_mene_a_la_file_d_instruction_urgences_d_abord(client):
    normale = DemandeFactory(en_evaluation=True)
    vitale = DemandeFactory(complement_fourni=True, urgence="vitale")
    DemandeFactory(transmise=True)
    connecter(client, UtilisateurFactory(evaluateur=True))
    reponse = client.get(reverse("demandes:instruction") + "?urgence=vitale")
    assert reponse.status_code == 302 and reponse.url == reverse("ansm:demandes") + "?urgence=vitale"
    page = html(client.get(reverse("ansm:demandes")))
    assert page.index(vitale.reference) < page.index(normale.reference)
    assert "2 demandes" in page


# --- The multi-step form ----------------------------------------------------------------------------------------


def test_le_formulaire_guide_enregistre_le_brouillon_a_chaque_etape_puis_transmet(client, heures_ouvrees):
    indication = IndicationFactory()
    criteres = CritereFactory.create_batch(2, indication=indication)
    specialite = indication.acces.specialite
    specialite.nom = "ZEBRAMAB 50 mg, solution"
    specialite.save()
    indexer_specialites(specialite)
    prescripteur = UtilisateurFactory(prescripteur=True)
    pui = PUIFactory(etablissement=prescripteur.etablissement)
    connecter(client, prescripteur)

    # Step 1: search the référentiel (accents ignored), pick the spécialité.
    page = html(client.get(reverse("demandes:nouvelle"), {"q": "zébramab"}))
    assert 'class="fr-stepper"' in page and "ZEBRAMAB 50 mg, solution" in page
    cle = re.search(r'name="cle_idempotence" value="([0-9a-f]+)"', page).group(1)
    reponse = client.post(
        reverse("demandes:nouvelle"), {"branche": "specialite", "specialite": specialite.pk, "cle_idempotence": cle}
    )
    demande = DemandeAAC.objects.get(prescripteur=prescripteur)
    assert reponse.url == reverse("demandes:etape", args=[demande.reference, "indication"])
    assert demande.specialite == specialite and demande.statut == StatutDemande.BROUILLON

    def etape(nom, donnees, suivante):
        demande.refresh_from_db()
        reponse = client.post(
            reverse("demandes:etape", args=[demande.reference, nom]), {"version": demande.version, **donnees}
        )
        assert reponse.status_code == 302, html(reponse)
        assert reponse.url == (
            reverse("demandes:etape", args=[demande.reference, suivante])
            if suivante
            else reverse("demandes:detail", args=[demande.reference])
        )
        demande.refresh_from_db()

    page = html(client.get(reverse("demandes:etape", args=[demande.reference, "indication"])))
    assert escape(indication.libelle) in page and "Étape 2 sur 7" in page
    etape("indication", {"choix": str(indication.pk)}, "criteres")
    assert demande.indication == indication

    page = html(client.get(reverse("demandes:etape", args=[demande.reference, "criteres"])))
    assert all(escape(c.libelle) in page for c in criteres)
    # A "non" without justification is refused (R11) and nothing is saved.
    reponse = client.post(
        reverse("demandes:etape", args=[demande.reference, "criteres"]),
        {"version": demande.version, f"critere_{criteres[0].pk}": "oui", f"critere_{criteres[1].pk}": "non"},
    )
    assert reponse.status_code == 400
    assert "Justifiez la demande : impossibilité d&#x27;inclure le patient dans un essai" in html(reponse)
    assert "(R11)" in html(reponse)
    assert not demande.attestations.exists()
    etape("criteres", {f"critere_{c.pk}": "oui" for c in criteres}, "patient")
    assert {a.critere_id: a.rempli for a in demande.attestations.all()} == {c.pk: True for c in criteres}

    etape(
        "patient",
        {
            "patient_initiales": "m.-c.",
            "patient_age": "7",
            "patient_age_unite": "ans",
            "patient_sexe": "F",
            "patient_poids_kg": "24.5",
            "territoire": "guadeloupe",
            "situation": "soin",
        },
        "traitement",
    )
    assert (demande.patient_initiales, demande.patient_age, demande.territoire) == ("M.-C.", 7, "guadeloupe")
    etape(
        "traitement",
        {
            "posologie": "50 mg/jour",
            "duree_traitement_jours": "120",
            "traitement_differable": "non",
            "urgence": "normale",
        },
        "engagements",
    )
    assert demande.duree_traitement_jours == 120 and demande.traitement_differable is False
    etape(
        "engagements",
        {
            "engagement_information_patient": "on",
            "engagement_surveillance": "on",
            "engagement_put_pharmacovigilance": "on",
            "engagement_reponse_ansm": "on",
            "pui": pui.pk,
        },
        "recapitulatif",
    )
    assert demande.pui == pui

    page = html(client.get(reverse("demandes:etape", args=[demande.reference, "recapitulatif"])))
    assert 'id="octroi-immediat-prevu"' in page and "M.-C." in page
    sans_inline(page)
    reponse = client.post(
        reverse("demandes:action", args=[demande.reference, "transmettre"]), {"transmettre-version": demande.version}
    )
    assert reponse.status_code == 302
    demande.refresh_from_db()
    assert demande.statut == StatutDemande.TRANSMISE_PHARMACIEN
    assert [j.transition for j in demande.journal.all()] == ["creer", "transmettre"]


def test_une_etape_postee_depuis_une_version_perimee_est_refusee_sans_ecraser(client):
    demande = DemandeFactory(posologie="1 comprimé")
    connecter(client, demande.prescripteur)
    version_vue = demande.version
    # Another tab saved in between.
    from demandes import services

    services.demande_modifier(
        demande=demande, par=demande.prescripteur, version=version_vue, donnees={"posologie": "2 comprimés"}
    )
    reponse = client.post(
        reverse("demandes:etape", args=[demande.reference, "traitement"]),
        {
            "version": version_vue,
            "posologie": "3 comprimés",
            "duree_traitement_jours": "30",
            "traitement_differable": "non",
            "urgence": "normale",
        },
    )
    assert reponse.status_code == 409
    assert "La demande a été modifiée entre-temps par une autre personne" in html(reponse)
    demande.refresh_from_db()
    assert demande.posologie == "2 comprimés"


def test_r24_la_page_de_depot_affiche_le_refus_de_la_regle(client):
    import datetime

    from django.utils import timezone

    demande_modele = DemandeFactory()
    acces = demande_modele.indication.acces
    acces.date_cessation = timezone.localdate() - datetime.timedelta(days=1)
    acces.save()
    prescripteur = UtilisateurFactory(prescripteur=True)
    connecter(client, prescripteur)
    reponse = client.post(
        reverse("demandes:nouvelle") + f"?specialite={acces.specialite.pk}",
        {"branche": "specialite", "specialite": acces.specialite.pk, "cle_idempotence": "abc"},
    )
    assert reponse.status_code == 400
    assert "aucune AAC ne peut plus être déposée ni octroyée pour ce médicament" in html(reponse)
    assert "(R24)" in html(reponse)
    assert not DemandeAAC.objects.filter(prescripteur=prescripteur).exists()


# --- The request page and its actions -----------------------------------------------------------------------------


def test_la_page_de_la_demande_montre_le_contenu_l_historique_et_journalise_la_lecture(client):
    demande = DemandeFactory(complement_demande=True)
    pharmacien = UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    connecter(client, pharmacien)
    page = html(client.get(reverse("demandes:detail", args=[demande.reference])))
    assert '<span class="fr-badge fr-badge--warning" id="statut-demande">Complément demandé</span>' in page
    assert "Merci de préciser les traitements antérieurs." in page
    assert 'data-action="repondre_complement"' in page and 'data-action="octroyer"' not in page
    assert re.search(r"<dt>Initiales</dt>\s*<dd>\s*J\.-D\.\s*</dd>", page)
    acces = AccesDonneesPatient.objects.get(demande=demande)
    assert (acces.utilisateur, acces.canal) == (pharmacien, "page")
    sans_inline(page)


def test_le_pharmacien_soumet_depuis_la_page_et_l_octroi_immediat_est_annonce(client, heures_ouvrees):
    demande = DemandeFactory(transmise=True)
    pharmacien = UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    connecter(client, pharmacien)
    reponse = client.post(
        reverse("demandes:action", args=[demande.reference, "soumettre"]),
        {"soumettre-version": demande.version},
        follow=True,
    )
    demande.refresh_from_db()
    assert demande.statut == StatutDemande.OCTROYEE
    page = html(reponse)
    assert f"AAC octroyée immédiatement : n° {demande.decision.numero_aac} (R15)." in page
    assert 'id="telecharger-decision"' in page
    assert "Octroi immédiat" in page  # the timeline's wording


def test_une_action_sur_une_version_perimee_affiche_le_conflit(client):
    demande = DemandeFactory(transmise=True)
    pharmacien = UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    connecter(client, pharmacien)
    reponse = client.post(
        reverse("demandes:action", args=[demande.reference, "renvoyer"]),
        {"renvoyer-version": demande.version - 1 or 99, "renvoyer-commentaire": "Poids ?"},
    )
    assert reponse.status_code == 409
    assert "La demande a été modifiée entre-temps" in html(reponse)
    demande.refresh_from_db()
    assert demande.statut == StatutDemande.TRANSMISE_PHARMACIEN


def test_l_evaluateur_refuse_depuis_la_page_avec_un_motif(client):
    demande = DemandeFactory(en_evaluation=True)
    evaluateur = UtilisateurFactory(evaluateur=True)
    connecter(client, evaluateur)
    reponse = client.post(
        reverse("demandes:action", args=[demande.reference, "refuser"]),
        {"refuser-version": demande.version, "refuser-motif": "autre", "refuser-motif_texte": ""},
    )
    assert reponse.status_code == 400 and "Précisez le motif du refus (R18)" in html(reponse)
    reponse = client.post(
        reverse("demandes:action", args=[demande.reference, "refuser"]),
        {"refuser-version": demande.version, "refuser-motif": "investigation"},
    )
    assert reponse.status_code == 302
    demande.refresh_from_db()
    assert demande.statut == StatutDemande.REFUSEE and demande.decision.motif_refus == "investigation"


def test_une_piece_jointe_est_verifiee_par_son_contenu_et_servie_avec_controle(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories.referentiel import pdf_minimal

    demande = DemandeFactory()
    connecter(client, demande.prescripteur)
    faux = SimpleUploadedFile("bilan.pdf", b"MZ\x90\x00 ceci est un executable", content_type="application/pdf")
    reponse = client.post(reverse("demandes:piece_joindre", args=[demande.reference]), {"fichier": faux}, follow=True)
    assert "n'est pas un PDF, un PNG ou un JPEG" in html(reponse)
    assert not demande.pieces.exists()
    vrai = SimpleUploadedFile("bilan.pdf", pdf_minimal("Bilan biologique"), content_type="application/pdf")
    client.post(reverse("demandes:piece_joindre", args=[demande.reference]), {"fichier": vrai})
    piece = demande.pieces.get()
    assert piece.type_mime == "application/pdf" and piece.nom == "bilan.pdf" and len(piece.empreinte) == 64
    assert demande.reference not in piece.fichier.name and "bilan" not in piece.fichier.name
    reponse = client.get(reverse("demandes:piece", args=[demande.reference, piece.pk]))
    assert reponse["Content-Type"] == "application/pdf" and b"".join(reponse.streaming_content).startswith(b"%PDF")
    connecter(client, UtilisateurFactory(prescripteur=True))
    assert client.get(reverse("demandes:piece", args=[demande.reference, piece.pk])).status_code == 404


def test_une_piece_trop_grosse_est_refusee(client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories.referentiel import pdf_minimal

    settings.DOCUMENT_MAX_SIZE = 100
    demande = DemandeFactory()
    connecter(client, demande.prescripteur)
    fichier = SimpleUploadedFile("gros.pdf", pdf_minimal("x" * 500), content_type="application/pdf")
    reponse = client.post(
        reverse("demandes:piece_joindre", args=[demande.reference]), {"fichier": fichier}, follow=True
    )
    assert "dépasse la taille maximale" in html(reponse) and not demande.pieces.exists()
