"""What the access-control matrix found, pinned with its effect: a refusal comes before any validation, and a
back-office action that would break existing requests is refused with a message instead of a server error."""

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from demandes.models import DemandeAAC, JournalDemande
from referentiel.models import Indication
from tests.conftest import connecter
from tests.factories import AccesFactory, DemandeFactory, UtilisateurFactory
from tests.factories.referentiel import indexer_specialites

pytestmark = pytest.mark.django_db


def test_une_partie_qui_n_a_pas_le_role_de_l_action_recoit_un_403_avant_toute_validation_dans_l_api(client):
    demande = DemandeFactory(en_evaluation=True)
    pharmacien = UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    connecter(client, pharmacien)

    reponse = client.post(f"/api/v1/demandes/{demande.reference}/octroyer/", {}, content_type="application/json")

    assert reponse.status_code == 403
    assert reponse.json() == {
        "detail": "L'action « Octroyer l'AAC » est réservée à : Évaluateur ANSM.",
        "erreurs": [
            {"message": "L'action « Octroyer l'AAC » est réservée à : Évaluateur ANSM.", "regle": None, "champ": None}
        ],
    }
    assert DemandeAAC.objects.values_list("statut", "version").get(pk=demande.pk) == (demande.statut, demande.version)
    assert not JournalDemande.objects.filter(demande=demande).exists()


def test_l_evaluateur_ne_peut_pas_modifier_les_champs_d_une_demande_par_l_api(client):
    demande = DemandeFactory(en_evaluation=True)
    connecter(client, UtilisateurFactory(evaluateur=True))

    reponse = client.patch(
        f"/api/v1/demandes/{demande.reference}/", {"posologie": "autre"}, content_type="application/json"
    )

    assert reponse.status_code == 403
    attendu = "L'action « Modifier la demande » est réservée à : Pharmacien (PUI), Prescripteur."
    assert reponse.json()["detail"] == attendu
    assert DemandeAAC.objects.get(pk=demande.pk).posologie == demande.posologie


def test_un_non_partie_recoit_toujours_un_404_et_non_le_403_du_role(client):
    demande = DemandeFactory(en_evaluation=True)
    connecter(client, UtilisateurFactory(pharmacien=True))  # another PUI's pharmacist

    reponse = client.post(f"/api/v1/demandes/{demande.reference}/octroyer/", {}, content_type="application/json")

    assert reponse.status_code == 404
    assert reponse.json() == {"detail": "Demande introuvable."}


def test_r11_une_indication_citee_par_des_demandes_n_est_pas_retiree_et_l_evaluateur_lit_pourquoi(client):
    demande = DemandeFactory()
    connecter(client, UtilisateurFactory(evaluateur=True))

    reponse = client.post(reverse("ansm:indication_supprimer", args=[demande.indication_id]), follow=True)

    assert reponse.status_code == 200
    assert [str(m) for m in reponse.context["messages"]] == [
        "Cette indication ne peut pas être retirée : des demandes d'AAC s'y réfèrent et leurs attestations "
        "portent sur ses critères d'octroi. Modifiez-la, ou terminez l'accès dérogatoire. (R11)"
    ]
    assert Indication.objects.filter(pk=demande.indication_id).exists()
    assert demande.attestations.count() == 2


@pytest.mark.parametrize("chemin", ["/api/v1/specialites/", "/api/v1/acces/", "/api/v1/indications/"])
def test_un_numero_de_page_demesure_est_une_page_introuvable_et_non_une_erreur_serveur(client, chemin):
    """Found by schemathesis: ?page=461168601932496896 overflowed PostgreSQL's OFFSET (a 500)."""
    reponse = client.get(chemin, {"page": "461168601932496896"})

    assert reponse.status_code == 404
    assert reponse.json() == {"detail": "Page invalide : Cette page ne contient aucun résultat."}


def test_la_page_du_referentiel_au_numero_demesure_montre_la_derniere_page(client):
    specialite = AccesFactory().specialite
    indexer_specialites(specialite)

    reponse = client.get(reverse("referentiel:liste"), {"page": "461168601932496896"})

    assert reponse.status_code == 200
    assert specialite.nom in reponse.content.decode()


def test_le_schema_annonce_les_refus_de_chaque_operation_et_les_champs_qui_peuvent_etre_vides():
    """Found by schemathesis: answers the schema did not announce (a 400 on a filter, a 404 past the last page, a
    403 without session) and null values in fields declared as strings."""
    schema = SchemaGenerator().get_schema(request=None, public=True)

    liste = schema["paths"]["/api/v1/specialites/"]["get"]["responses"]
    assert sorted(liste) == ["200", "304", "400", "403", "404", "429"]
    assert liste["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Erreur"}
    assert liste["403"]["description"] == "Session d'un agent de l'ANSM sans second facteur vérifié."
    lecture = schema["paths"]["/api/v1/demandes/{reference}/"]["get"]["responses"]
    assert sorted(lecture) == ["200", "403", "404", "429"]
    assert lecture["403"]["description"].startswith("Authentification requise")
    # The view's own description of a status is kept.
    action = schema["paths"]["/api/v1/demandes/{reference}/octroyer/"]["post"]["responses"]
    assert action["409"]["description"] == "La demande a été modifiée entre-temps (version ou état)"
    assert action["403"]["description"] == "Action réservée à un autre rôle"
    composants = schema["components"]["schemas"]
    assert composants["Demande"]["properties"]["demande_initiale"]["nullable"] is True
    assert composants["Journal"]["properties"]["acteur"]["nullable"] is True
    assert composants["Decision"]["properties"]["laboratoire"]["nullable"] is True


def test_l_apercu_de_la_decision_est_refuse_a_l_administrateur_avant_la_lecture_du_formulaire(client):
    """Found by the matrix: the preview answered the form's 400 to a role that never grants (octroyer: évaluateur)."""
    demande = DemandeFactory(en_evaluation=True)
    connecter(client, UtilisateurFactory(administrateur=True))

    reponse = client.post(reverse("ansm:instruction_apercu", args=[demande.reference, "octroyer"]))

    assert reponse.status_code == 403
    assert "application/pdf" not in reponse["Content-Type"]
    assert demande.reference not in reponse.content.decode()


@pytest.mark.parametrize("cle", ["cle\x00nulle", "x" * 65, "clé accentuée"])
def test_une_cle_d_idempotence_malformee_est_refusee_avec_un_message(client, cle):
    """Found by schemathesis: a NUL byte in Idempotency-Key reached PostgreSQL (a 500)."""
    specialite = AccesFactory().specialite
    connecter(client, UtilisateurFactory(prescripteur=True))

    reponse = client.post(
        "/api/v1/demandes/",
        {"type_medicament": "reference_indication", "specialite": specialite.pk},
        content_type="application/json",
        headers={"Idempotency-Key": cle},
    )

    assert reponse.status_code == 400
    assert reponse.json()["erreurs"] == [
        {
            "message": "En-tête Idempotency-Key invalide : de 1 à 64 lettres, chiffres ou caractères . _ : - "
            "(un UUID convient).",
            "regle": None,
            "champ": "Idempotency-Key",
        }
    ]
    assert not DemandeAAC.objects.exists()
