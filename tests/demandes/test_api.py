"""The requests API: the same services as the pages, French field errors, 403/404/409, idempotent creation, a full
journey, the patient-data log, a constant query count on the list."""

import datetime
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from demandes.enums import StatutDemande
from demandes.models import AccesDonneesPatient, DemandeAAC
from tests.conftest import connecter
from tests.factories import (
    AccesFactory,
    CritereFactory,
    DemandeFactory,
    IndicationFactory,
    PUIFactory,
    UtilisateurFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/demandes/"


def post(client, url, donnees=None, **entetes):
    return client.post(url, donnees or {}, content_type="application/json", headers=entetes)


def patch(client, url, donnees):
    return client.patch(url, donnees, content_type="application/json")


def test_creation_idempotente_avec_l_entete_idempotency_key(client):
    prescripteur = connecter(client, UtilisateurFactory(prescripteur=True))
    specialite = AccesFactory().specialite
    corps = {"type_medicament": "reference_indication", "specialite": specialite.pk}
    premiere = post(client, URL, corps, **{"Idempotency-Key": "cle-123"})
    seconde = post(client, URL, corps, **{"Idempotency-Key": "cle-123"})
    assert (premiere.status_code, seconde.status_code) == (201, 200)
    assert premiere.json()["reference"] == seconde.json()["reference"]
    assert DemandeAAC.objects.filter(prescripteur=prescripteur).count() == 1
    assert post(client, URL, corps, **{"Idempotency-Key": "cle-456"}).status_code == 201
    assert DemandeAAC.objects.filter(prescripteur=prescripteur).count() == 2


def test_double_envoi_du_formulaire_de_depot_une_seule_demande(client):
    from django.urls import reverse

    prescripteur = connecter(client, UtilisateurFactory(prescripteur=True))
    specialite = AccesFactory().specialite
    corps = {"branche": "specialite", "specialite": specialite.pk, "cle_idempotence": "f00dcafe"}
    premiere = client.post(reverse("demandes:nouvelle"), corps)
    seconde = client.post(reverse("demandes:nouvelle"), corps)
    assert premiere.url == seconde.url
    assert DemandeAAC.objects.filter(prescripteur=prescripteur).count() == 1


@pytest.mark.parametrize(
    ("champ", "valeur", "message"),
    [
        ("duree_traitement_jours", 400, "La durée de traitement est d'au plus 1 an (365 jours) (R17)."),
        ("duree_traitement_jours", 0, "La durée de traitement est d'au moins 1 jour (R17)."),
        ("patient_initiales", "Jean Dupont", "Saisissez uniquement les initiales du patient"),
        ("type_medicament", "autre_chose", "n'est pas un choix valide."),
        ("patient_poids_kg", "lourd", "Un nombre valide est requis."),
    ],
)
def test_un_champ_invalide_recoit_une_400_en_francais_sur_ce_champ(client, champ, valeur, message):
    demande = DemandeFactory()
    connecter(client, demande.prescripteur)
    reponse = patch(client, f"{URL}{demande.reference}/", {"version": demande.version, champ: valeur})
    assert reponse.status_code == 400
    assert message in reponse.json()[champ][0]
    demande.refresh_from_db()
    assert demande.version == DemandeFactory._meta.model.objects.get(pk=demande.pk).version


def test_une_version_perimee_recoit_une_409(client):
    demande = DemandeFactory()
    connecter(client, demande.prescripteur)
    assert (
        patch(client, f"{URL}{demande.reference}/", {"version": demande.version, "posologie": "A"}).status_code == 200
    )
    reponse = patch(client, f"{URL}{demande.reference}/", {"version": demande.version, "posologie": "B"})
    assert reponse.status_code == 409
    assert reponse.json()["detail"].startswith("La demande a été modifiée entre-temps")
    assert DemandeAAC.objects.get(pk=demande.pk).posologie == "A"
    assert patch(client, f"{URL}{demande.reference}/", {"posologie": "C"}).status_code == 400


def test_une_regle_enfreinte_recoit_une_400_qui_la_cite(client):
    demande = DemandeFactory(territoire="nouvelle_caledonie")
    connecter(client, demande.prescripteur)
    reponse = post(client, f"{URL}{demande.reference}/transmettre/", {"version": demande.version})
    assert reponse.status_code == 400
    assert reponse.json()["erreurs"] == [
        {
            "message": "L'ANSM n'est pas l'autorité compétente pour les AAC en Nouvelle-Calédonie : adressez-vous à "
            "l'autorité sanitaire locale (R9)",
            "regle": "R9",
            "champ": "territoire",
        }
    ]


def test_une_action_reservee_a_un_autre_role_recoit_une_403(client):
    demande = DemandeFactory(en_evaluation=True)
    connecter(client, demande.prescripteur)
    reponse = post(
        client,
        f"{URL}{demande.reference}/octroyer/",
        {
            "version": demande.version,
            "duree_jours": 30,
            "laboratoire": demande.specialite.titulaire_id,
            "reserve_hospitalier": True,
        },
    )
    assert reponse.status_code == 403
    assert reponse.json()["detail"] == "L'action « Octroyer l'AAC » est réservée à : Évaluateur ANSM."
    assert DemandeAAC.objects.get(pk=demande.pk).statut == StatutDemande.EN_EVALUATION


@pytest.mark.parametrize("role", ["pharmacien", "evaluateur", "laboratoire_role"])
def test_r10_seul_un_prescripteur_depose_et_les_autres_recoivent_une_403_quel_que_soit_le_corps(client, role):
    """The role is checked before the body: a malformed request from a non-prescriber is a 403, never a 400 that
    would describe the form to someone who may not file one."""
    connecter(client, UtilisateurFactory(**{role: True}))
    for corps in ({}, {"patient_initiales": "!!", "duree_jours": "beaucoup"}):
        reponse = post(client, URL, corps)
        assert reponse.status_code == 403, reponse.content
        assert reponse.json()["detail"] == "Seul un prescripteur peut déposer une demande d'AAC (R10)."
    assert not DemandeAAC.objects.exists()


def test_parcours_complet_par_l_api(client, heures_ouvrees):
    indication = IndicationFactory(acces=AccesFactory())
    criteres = CritereFactory.create_batch(2, indication=indication)
    prescripteur = UtilisateurFactory(prescripteur=True)
    pui = PUIFactory(etablissement=prescripteur.etablissement)
    pharmacien = UtilisateurFactory(pharmacien=True, pui=pui, etablissement=pui.etablissement)
    evaluateur = UtilisateurFactory(evaluateur=True)

    connecter(client, prescripteur)
    cree = post(
        client,
        URL,
        {
            "type_medicament": "reference_indication",
            "specialite": indication.acces.specialite_id,
            "indication": indication.pk,
            "attestations": [
                {"critere": criteres[0].pk, "rempli": True},
                {"critere": criteres[1].pk, "rempli": False},
            ],
            "justification": "Critère 2 non rempli ; aucune alternative appropriée.",
            "patient_initiales": "ab",
            "patient_age": 8,
            "patient_age_unite": "mois",
            "patient_sexe": "M",
            "patient_poids_kg": "7.8",
            "posologie": "1 mg/kg/jour",
            "duree_traitement_jours": 90,
            "traitement_differable": False,
            "engagement_information_patient": True,
            "engagement_surveillance": True,
            "engagement_put_pharmacovigilance": True,
            "engagement_reponse_ansm": True,
            "pui": pui.pk,
        },
        **{"Idempotency-Key": "parcours"},
    )
    assert cree.status_code == 201, cree.json()
    corps = cree.json()
    ref, version = corps["reference"], corps["version"]
    assert corps["patient_initiales"] == "AB" and corps["actions"] == [
        "modifier",
        "transmettre",
        "annuler",
        "joindre_piece",
    ]
    reponse = post(client, f"{URL}{ref}/transmettre/", {"version": version})
    assert reponse.status_code == 200 and reponse.json()["statut"] == "transmise_pharmacien"

    connecter(client, pharmacien)
    version = client.get(f"{URL}{ref}/").json()["version"]
    reponse = post(client, f"{URL}{ref}/soumettre/", {"version": version})
    assert reponse.json()["statut"] == "en_evaluation"  # a "non" criterion: evaluated (R15)

    connecter(client, evaluateur)
    version = reponse.json()["version"]
    date_limite = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    reponse = post(
        client,
        f"{URL}{ref}/demander-complement/",
        {"version": version, "question": "Bilan hépatique ?", "date_limite": date_limite},
    )
    assert reponse.json()["statut"] == "complement_demande"
    assert reponse.json()["complements"][0]["question"] == "Bilan hépatique ?"

    connecter(client, pharmacien)
    reponse = post(
        client, f"{URL}{ref}/repondre-complement/", {"version": reponse.json()["version"], "reponse": "Normal."}
    )
    assert reponse.json()["statut"] == "complement_fourni"

    connecter(client, evaluateur)
    reponse = post(
        client,
        f"{URL}{ref}/octroyer/",
        {
            "version": reponse.json()["version"],
            "duree_jours": 60,
            "laboratoire": indication.acces.specialite.titulaire_id,
            "reserve_hospitalier": True,
        },
    )
    assert reponse.status_code == 200 and reponse.json()["statut"] == "octroyee"
    decision = reponse.json()["decision"]
    assert decision["duree_jours"] == 60 and decision["numero_aac"].startswith("AAC-")
    assert [e["transition"] for e in reponse.json()["journal"]] == [
        "creer",
        "transmettre",
        "soumettre",
        "demander_complement",
        "repondre_complement",
        "octroyer",
    ]

    connecter(client, prescripteur)
    pdf = client.get(f"{URL}{ref}/decision/")
    assert pdf["Content-Type"] == "application/pdf"
    texte = PdfReader(io.BytesIO(b"".join(pdf.streaming_content))).pages[0].extract_text()
    assert decision["numero_aac"] in texte and "Initiales AB" in " ".join(texte.split())


def test_chaque_lecture_des_donnees_patient_est_journalisee_avec_son_canal(client):
    from django.urls import reverse

    demande = DemandeFactory(octroyee=True)
    connecter(client, demande.prescripteur)
    client.get(URL)  # a list shows no patient data: not logged
    assert not AccesDonneesPatient.objects.exists()
    client.get(f"{URL}{demande.reference}/")
    client.get(reverse("demandes:detail", args=[demande.reference]))
    client.get(reverse("demandes:decision_pdf", args=[demande.reference]))
    journal = list(AccesDonneesPatient.objects.order_by("le", "id").values_list("utilisateur", "demande", "canal"))
    assert journal == [
        (demande.prescripteur_id, demande.pk, "api"),
        (demande.prescripteur_id, demande.pk, "page"),
        (demande.prescripteur_id, demande.pk, "pdf"),
    ]


@pytest.mark.parametrize("nombre", [3, 25])
def test_la_liste_de_l_api_a_un_nombre_de_requetes_constant(client, django_assert_num_queries, nombre):
    prescripteur = UtilisateurFactory(prescripteur=True)
    DemandeFactory.create_batch(nombre, prescripteur=prescripteur)
    connecter(client, prescripteur)
    client.get(URL)
    # session, user, count, page; the session's expiry pushed back (savepoint, update, release)
    with django_assert_num_queries(7):
        reponse = client.get(URL)
    assert reponse.json()["count"] == nombre
    assert "patient_initiales" not in reponse.json()["results"][0]


def test_le_renouvellement_par_l_api_est_idempotent(client):
    demande = DemandeFactory(octroyee=True)
    connecter(client, demande.prescripteur)
    premiere = post(
        client, f"{URL}{demande.reference}/renouveler/", {"version": demande.version}, **{"Idempotency-Key": "r1"}
    )
    seconde = post(
        client, f"{URL}{demande.reference}/renouveler/", {"version": demande.version + 1}, **{"Idempotency-Key": "r1"}
    )
    assert (premiere.status_code, seconde.status_code) == (201, 200)
    assert premiere.json()["reference"] == seconde.json()["reference"]
    assert premiere.json()["demande_initiale"] == demande.reference
