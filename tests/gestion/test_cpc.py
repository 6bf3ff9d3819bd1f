"""The CPC's life (R38-R40) and the signalements it comes from (R39): draft, sent to the holder for comments with
the planned date (the holder and the exploitant are emailed), published for 3 years, then renewed or ended."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from comptes.models import Notification
from referentiel import services
from referentiel.exceptions import ReferentielError
from referentiel.models import AccesDerogatoire, HistoriqueFiche, RenouvellementCPC, Signalement
from tests.factories import CompositionFactory, LaboratoireFactory, SubstanceFactory
from tests.factories.gestion import CPCFactory, LaboratoireUtilisateurFactory, SignalementFactory, SpecialiteAmmFactory
from tests.gestion.conftest import erreur_du_champ, erreurs_du_formulaire, normaliser

pytestmark = pytest.mark.django_db

J = datetime.date
AUJOURD_HUI = J(2026, 6, 15)


@pytest.fixture(autouse=True)
def _date():
    with time_machine.travel(datetime.datetime(2026, 6, 15, 10, 0, tzinfo=timezone.get_current_timezone())):
        yield


@pytest.fixture
def specialite():
    return SpecialiteAmmFactory(
        nom="METHOTREXATE 25 mg",
        titulaire=LaboratoireFactory(nom="Titulaire SA", email="amm@titulaire.example"),
        exploitant=LaboratoireFactory(nom="Exploitant SAS", email="pv@exploitant.example"),
    )


# --- Signalements (R39) ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origine",
    ["inca", "centre_reference", "cnp", "association_patients"],
)
def test_r39_a_signalement_is_recorded_with_each_source_the_law_names(client_ansm, specialite, evaluateur, origine):
    reponse = client_ansm.post(
        f"/ansm/referentiel/{specialite.pk}/signalements/nouveau/",
        {
            "origine": origine,
            "organisation": "Organisme signalant",
            "date_signalement": "2026-06-01",
            "situation": "Usage hors AMM dans la polyarthrite juvénile.",
        },
    )
    assert reponse.status_code == 302
    signalement = Signalement.objects.get()
    assert (signalement.origine, signalement.specialite, signalement.enregistre_par) == (
        origine,
        specialite,
        evaluateur,
    )
    assert HistoriqueFiche.objects.filter(specialite=specialite, action="Signalement enregistré").exists()


def test_r39_a_signalement_without_a_known_source_or_medicine_is_refused(evaluateur):
    with pytest.raises(ReferentielError, match="choisissez sa source") as erreur:
        services.signalement_creer(origine="laboratoire", organisation="X", situation="Y", par=evaluateur)
    assert (erreur.value.regle, erreur.value.champ) == ("R39", "origine")
    with pytest.raises(ReferentielError, match="Désignez la spécialité ou la substance concernée"):
        services.signalement_creer(origine="cnp", organisation="CNP de rhumatologie", situation="Y", par=evaluateur)


def test_r39_a_signalement_on_a_substance_is_recorded_from_the_signalements_page(client_ansm):
    SubstanceFactory(dci="méthotrexate")
    reponse = client_ansm.post(
        "/ansm/referentiel/signalements/",
        {
            "origine": "association_patients",
            "organisation": "Association agréée X",
            "date_signalement": "2026-05-20",
            "situation": "Demande d'encadrement.",
            "dci": "MÉTHOTREXATE",
        },
        follow=True,
    )
    contenu = normaliser(reponse.content.decode())
    assert "Signalement enregistré." in contenu
    assert 'Association de patients agréée<br><span class="fr-text--xs">Association agréée X</span>' in contenu
    assert Signalement.objects.get().substance.dci == "méthotrexate"


def test_an_unknown_substance_is_refused_on_the_dci_field(client_ansm):
    reponse = client_ansm.post(
        "/ansm/referentiel/signalements/",
        {
            "origine": "cnp",
            "organisation": "CNP",
            "date_signalement": "2026-05-20",
            "situation": "S",
            "dci": "inconnu",
        },
    )
    assert reponse.status_code == 400
    assert erreur_du_champ(reponse.content.decode(), "dci") == (
        "Aucune substance « inconnu » dans le référentiel : vérifiez la DCI."
    )


# --- The CPC's life (R38, R40) ------------------------------------------------------------------------------------


def test_r39_a_cpc_drafted_from_a_signalement_keeps_its_source_and_the_link(client_ansm, specialite):
    signalement = SignalementFactory(specialite=specialite, origine="cnp", organisation="CNP de rhumatologie")
    reponse = client_ansm.post(
        f"/ansm/referentiel/{specialite.pk}/cpc/nouveau/",
        {"signalement": signalement.pk, "conditions_utilisation": "Polyarthrite juvénile réfractaire."},
    )
    cpc = AccesDerogatoire.objects.get(specialite=specialite, type_acces="CPC")
    assert reponse["Location"] == f"/ansm/referentiel/cpc/{cpc.pk}/"
    assert (cpc.etape_cpc, cpc.origine_signalement, cpc.etat) == ("brouillon", "cnp", "en_cours")
    signalement.refresh_from_db()
    assert signalement.cpc == cpc
    with pytest.raises(ReferentielError, match="Ce signalement a déjà donné lieu à un CPC"):
        services.cpc_creer(specialite=specialite, signalement=signalement, par=None)


def test_r39_a_signalement_on_another_substance_cannot_lead_to_this_cpc(specialite, evaluateur):
    CompositionFactory(specialite=specialite, substance__dci="méthotrexate")
    autre = SignalementFactory(specialite=None, substance=SubstanceFactory(dci="adalimumab"))
    with pytest.raises(ReferentielError, match="concerne la substance adalimumab, absente de cette spécialité"):
        services.cpc_creer(specialite=specialite, signalement=autre, par=evaluateur)


def test_r38_a_cpc_needs_a_medicine_with_an_amm(client_ansm):
    sans_amm = SpecialiteAmmFactory(statut_amm="aucune", date_amm=None)
    reponse = client_ansm.post(f"/ansm/referentiel/{sans_amm.pk}/cpc/nouveau/", {"origine_signalement": "inca"})
    assert reponse.status_code == 400
    assert "encadre la prescription hors AMM d'un médicament qui a une AMM en France" in erreurs_du_formulaire(
        reponse.content.decode()
    )


def test_r40_sending_the_draft_to_the_holder_emails_the_holder_and_the_exploitant(client_ansm, specialite):
    cpc = CPCFactory(specialite=specialite)
    LaboratoireUtilisateurFactory(laboratoire=specialite.titulaire, email="reglementaire@titulaire.example")
    reponse = client_ansm.post(
        f"/ansm/referentiel/cpc/{cpc.pk}/transmettre/", {"transmettre-date_entree_vigueur_prevue": "2026-09-01"}
    )
    assert reponse.status_code == 302
    cpc.refresh_from_db()
    assert (cpc.etape_cpc, cpc.date_entree_vigueur_prevue) == ("transmis_titulaire", J(2026, 9, 1))
    notifications = Notification.objects.order_by("destinataire")
    assert [n.destinataire for n in notifications] == [
        "amm@titulaire.example",
        "pv@exploitant.example",
        "reglementaire@titulaire.example",
    ]
    assert {n.sujet for n in notifications} == {"Projet de CPC pour METHOTREXATE 25 mg : vos observations"}
    assert "Date d'entrée en vigueur prévue : 01/09/2026." in notifications[0].corps
    ligne = HistoriqueFiche.objects.get(action="Projet de CPC transmis au titulaire pour observations")
    assert sorted(ligne.apres["destinataires"]) == [n.destinataire for n in notifications]


def test_r40_the_planned_date_is_required_and_in_the_future(client_ansm, specialite):
    cpc = CPCFactory(specialite=specialite)
    reponse = client_ansm.post(
        f"/ansm/referentiel/cpc/{cpc.pk}/transmettre/", {"transmettre-date_entree_vigueur_prevue": "2026-06-01"}
    )
    assert reponse.status_code == 400
    assert erreur_du_champ(reponse.content.decode(), "transmettre-date_entree_vigueur_prevue") == (
        "Indiquez la date d'entrée en vigueur prévue, à venir : le titulaire formule ses observations avant. (R40)"
    )
    assert not Notification.objects.exists()
    cpc.refresh_from_db()
    assert cpc.etape_cpc == "brouillon"


def test_r40_a_draft_not_yet_sent_to_the_holder_cannot_be_published(specialite, evaluateur):
    cpc = CPCFactory(specialite=specialite)
    with pytest.raises(ReferentielError, match="« Projet » ne peut pas passer à « Publié »"):
        services.cpc_publier(acces=cpc, par=evaluateur)


def test_r38_r40_publishing_starts_a_3_year_term_on_the_planned_date_and_tells_the_holder(client_ansm, specialite):
    cpc = CPCFactory(specialite=specialite, transmis=True, date_entree_vigueur_prevue=J(2026, 7, 1))
    reponse = client_ansm.post(f"/ansm/referentiel/cpc/{cpc.pk}/publier/", {"publier-date_debut": ""}, follow=True)
    cpc.refresh_from_db()
    assert (cpc.etape_cpc, cpc.date_debut, cpc.date_fin) == ("publie", J(2026, 7, 1), J(2029, 7, 1))
    assert '<dd id="periode-cpc">du 01/07/2026 au 01/07/2029</dd>' in normaliser(reponse.content.decode())
    assert sorted(Notification.objects.values_list("sujet", "destinataire")) == [
        ("CPC publié pour METHOTREXATE 25 mg", "amm@titulaire.example"),
        ("CPC publié pour METHOTREXATE 25 mg", "pv@exploitant.example"),
    ]


def test_a_published_cpc_is_public_a_draft_is_not(client, specialite, evaluateur):
    cpc = CPCFactory(specialite=specialite, transmis=True)
    assert client.get(f"/referentiel/{specialite.slug}/").status_code == 404
    services.cpc_publier(acces=cpc, par=evaluateur)
    assert (
        "CPC — cadre de prescription compassionnelle"
        in client.get(f"/referentiel/{specialite.slug}/").content.decode()
    )


def test_r38_renewing_starts_a_new_3_year_term_and_keeps_the_previous_one(client_ansm, specialite, evaluateur):
    cpc = CPCFactory(specialite=specialite, publie=True)  # 01/09/2023 - 01/09/2026
    reponse = client_ansm.post(f"/ansm/referentiel/cpc/{cpc.pk}/renouveler/", {"renouveler-date_debut": ""})
    assert reponse.status_code == 302
    cpc.refresh_from_db()
    assert (cpc.date_debut, cpc.date_fin, cpc.etat) == (AUJOURD_HUI, J(2029, 6, 15), "en_cours")
    renouvellement = RenouvellementCPC.objects.get(acces=cpc)
    assert (renouvellement.debut_precedent, renouvellement.fin_precedente) == (J(2023, 9, 1), J(2026, 9, 1))
    assert (renouvellement.debut, renouvellement.fin, renouvellement.decide_par) == (
        AUJOURD_HUI,
        J(2029, 6, 15),
        evaluateur,
    )
    assert HistoriqueFiche.objects.filter(action="Renouvellement du CPC pour 3 ans").count() == 1


def test_r38_a_lapsed_cpc_is_not_renewed(specialite, evaluateur):
    cpc = CPCFactory(specialite=specialite, publie=True, date_debut=J(2023, 1, 1), date_fin=J(2026, 1, 1))
    with pytest.raises(ReferentielError, match="un CPC échu ne se renouvelle pas") as erreur:
        services.cpc_renouveler(acces=cpc, par=evaluateur)
    assert erreur.value.regle == "R38"


def test_r38_a_cpc_not_renewed_ends_on_its_3_year_term(client_ansm, specialite):
    cpc = CPCFactory(specialite=specialite, publie=True, date_debut=J(2023, 6, 1), date_fin=J(2026, 6, 1))
    reponse = client_ansm.post(f"/ansm/referentiel/cpc/{cpc.pk}/terminer/", {"terminer-date_fin": ""}, follow=True)
    cpc.refresh_from_db()
    assert (cpc.etat, cpc.date_fin) == ("termine", J(2026, 6, 1))
    assert "Étapes suivantes" not in reponse.content.decode()
    assert Notification.objects.filter(sujet="Fin du CPC pour METHOTREXATE 25 mg").count() == 2
    with pytest.raises(ReferentielError, match="Ce CPC est terminé"):
        services.cpc_renouveler(acces=cpc, par=None)


def test_r38_a_cpc_cannot_be_ended_after_its_term(specialite, evaluateur):
    cpc = CPCFactory(specialite=specialite, publie=True)
    with pytest.raises(ReferentielError, match="pas à une date future"):
        services.cpc_terminer(acces=cpc, date_fin=J(2026, 12, 1), par=evaluateur)


@pytest.mark.parametrize("nombre", [3, 40])
def test_the_cpc_list_runs_a_fixed_number_of_queries(client_ansm, django_assert_num_queries, nombre):
    for _ in range(nombre):
        cpc = CPCFactory(publie=True)
        SignalementFactory(specialite=cpc.specialite, cpc=cpc)
    # session, user, OTP device, count, rows, signalements, demonstration banner, session save (3)
    with django_assert_num_queries(10):
        reponse = client_ansm.get("/ansm/referentiel/cpc/")
    assert reponse.content.decode().count('<td><a href="/ansm/referentiel/cpc/') == min(nombre, 25)


@pytest.mark.parametrize("nombre", [3, 40])
def test_the_signalements_list_runs_a_fixed_number_of_queries(client_ansm, django_assert_num_queries, nombre):
    for _ in range(nombre):
        SignalementFactory()
    # session, user, OTP device, count, rows with their spécialité and CPC, demonstration banner, session save (3)
    with django_assert_num_queries(9):
        reponse = client_ansm.get("/ansm/referentiel/signalements/")
    assert reponse.content.decode().count(">Créer le projet de CPC</a>") == min(nombre, 25)
