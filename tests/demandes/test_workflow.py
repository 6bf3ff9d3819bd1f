"""Every action of the declared workflow table, for every role and every state: allowed exactly where the table
says so (the state changes as declared and the journal records it), refused everywhere else (nothing changes)."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from comptes.enums import Role
from demandes import services, workflow
from demandes.enums import DestinataireComplement, MotifRefus, PieceLaboratoire, StatutDemande, TypeMedicament
from demandes.exceptions import ConflitEtat, DemandeError, TransitionInterdite
from demandes.models import Complement, Decision, DemandeAAC, JournalDemande, Recours
from demandes.selectors import est_partie
from tests.factories import DemandeFactory, LaboratoireFactory, UtilisateurFactory
from tests.factories.referentiel import pdf_minimal

pytestmark = pytest.mark.django_db

TRAITS = {
    StatutDemande.BROUILLON: {},
    StatutDemande.TRANSMISE_PHARMACIEN: {"transmise": True},
    StatutDemande.RENVOYEE: {"renvoyee": True},
    StatutDemande.EN_EVALUATION: {"en_evaluation": True},
    StatutDemande.COMPLEMENT_DEMANDE: {"complement_demande": True},
    StatutDemande.COMPLEMENT_FOURNI: {"complement_fourni": True},
    StatutDemande.OCTROYEE: {"octroyee": True, "regularisation_a_posteriori": True},
    StatutDemande.REFUSEE: {"refusee": True},
    StatutDemande.ANNULEE: {"annulee": True},
    StatutDemande.EXPIREE: {"expiree": True},
}
ROLES = [*Role.values, workflow.SYSTEME]


def _acteur(role, demande):
    if role == workflow.SYSTEME:
        return None
    if role == Role.PRESCRIPTEUR:
        return demande.prescripteur
    if role == Role.PHARMACIEN:
        return UtilisateurFactory(pharmacien=True, pui=demande.pui, etablissement=demande.pui.etablissement)
    if role == Role.LABORATOIRE:
        return UtilisateurFactory(laboratoire_role=True)
    return UtilisateurFactory(**{role: True})


# One call per service; "modifier" and "completer" are the same service, named by the caller's role.
APPELS = {
    "modifier": lambda d, par: services.demande_modifier(
        demande=d, par=par, version=d.version, donnees={"posologie": "1 comprimé le matin"}
    ),
    "transmettre": lambda d, par: services.demande_transmettre(demande=d, par=par, version=d.version),
    "renvoyer": lambda d, par: services.demande_renvoyer(
        demande=d, par=par, version=d.version, commentaire="Précisez le poids du patient."
    ),
    "soumettre": lambda d, par: services.demande_soumettre(demande=d, par=par, version=d.version),
    "demander_complement": lambda d, par: services.complement_demander(
        demande=d,
        par=par,
        version=d.version,
        question="Quels traitements antérieurs ?",
        date_limite=timezone.localdate() + datetime.timedelta(days=10),
    ),
    "repondre_complement": lambda d, par: services.complement_repondre(
        demande=d, par=par, version=d.version, reponse="Deux lignes antérieures."
    ),
    "octroyer": lambda d, par: services.demande_octroyer(
        demande=d,
        par=par,
        version=d.version,
        duree_jours=90,
        laboratoire=LaboratoireFactory(),
        reserve_hospitalier=True,
    ),
    "refuser": lambda d, par: services.demande_refuser(
        demande=d, par=par, version=d.version, motif=MotifRefus.DONNEES_INSUFFISANTES
    ),
    "regulariser": lambda d, par: services.demande_regulariser(demande=d, par=par, version=d.version),
    "annuler": lambda d, par: services.demande_annuler(demande=d, par=par, version=d.version),
    "former_recours": lambda d, par: services.recours_former(
        demande=d, par=par, version=d.version, motif="La durée accordée est trop courte."
    ),
    "renouveler": lambda d, par: services.demande_renouveler(demande=d, par=par, version=d.version),
    "joindre_piece": lambda d, par: services.piece_joindre(
        demande=d, par=par, fichier=SimpleUploadedFile("bilan.pdf", pdf_minimal(), content_type="application/pdf")
    ),
    "interroger_laboratoire": lambda d, par: services.complement_laboratoire_demander(
        demande=_hors_indication(d),
        par=par,
        version=d.version,
        laboratoire=LaboratoireFactory(),
        pieces=[PieceLaboratoire.PROJET_PUT],
        date_limite=timezone.localdate() + datetime.timedelta(days=10),
    ),
    "repondre_laboratoire": lambda d, par: services.complement_laboratoire_repondre(
        complement=_question_au_laboratoire(d, par), par=par, reponse="Brochure pour l'investigateur jointe."
    ),
    "assigner": lambda d, par: services.demande_assigner(
        demande=d, evaluateur=UtilisateurFactory(evaluateur=True), par=par, version=d.version
    ),
    "accueillir_recours": lambda d, par: services.recours_accueillir(
        demande=_avec_recours(d),
        par=par,
        version=d.version,
        reponse="Des données nouvelles permettent de présumer l'efficacité.",
        duree_jours=90,
        laboratoire=LaboratoireFactory(),
        reserve_hospitalier=True,
    ),
    "rejeter_recours": lambda d, par: services.recours_rejeter(
        demande=_avec_recours(d), par=par, version=d.version, reponse="Aucun élément nouveau."
    ),
}
# Actions that add to the file without overwriting anyone's input: they take no version and do not bump it.
SANS_VERSION = {"joindre_piece", "repondre_laboratoire"}


def _hors_indication(demande):
    """R16 applies to a new indication: the request asks for its spécialité outside the referenced ones."""
    DemandeAAC.objects.filter(pk=demande.pk).update(
        type_medicament=TypeMedicament.REFERENCE_HORS_INDICATION, indication=None, justification="Justifiée."
    )
    return demande


def _question_au_laboratoire(demande, par):
    """An information request addressed to the caller's laboratory (any laboratory for another role)."""
    return Complement.objects.create(
        demande=demande,
        destinataire=DestinataireComplement.LABORATOIRE,
        laboratoire=getattr(par, "laboratoire", None) or LaboratoireFactory(),
        question="Merci de transmettre la brochure.",
        pieces_demandees=[PieceLaboratoire.DONNEES_PRODUIT],
        date_limite=timezone.localdate() + datetime.timedelta(days=10),
        demande_par=UtilisateurFactory(evaluateur=True),
    )


def _avec_recours(demande):
    """The prescriber's appeal against the decision, when there is one (R19)."""
    decision = Decision.objects.filter(demande=demande).first()
    if decision is not None:
        Recours.objects.get_or_create(
            demande=demande,
            decision=decision,
            defaults={"motif": "Situation clinique nouvelle.", "depose_par": demande.prescripteur},
        )
    return demande


def _permis(nom, statut, role):
    if nom == "modifier":
        return workflow.est_permise("modifier", statut=statut, role=role) or workflow.est_permise(
            "completer", statut=statut, role=role
        )
    return workflow.est_permise(nom, statut=statut, role=role)


CAS = [(nom, role, statut) for nom in APPELS for role in ROLES for statut in StatutDemande.values]


def test_la_table_declare_chaque_action_une_seule_fois_avec_des_etats_et_roles_connus():
    noms = [t.nom for t in workflow.TRANSITIONS]
    assert len(noms) == len(set(noms))
    for t in workflow.TRANSITIONS:
        assert t.depuis <= set(StatutDemande.values) and t.depuis
        assert t.vers is None or t.vers in StatutDemande.values
        assert t.roles <= set(ROLES) and t.roles
    # Each action a user can take has its service here, "completer" sharing the one of "modifier".
    assert set(noms) - {"completer", "octroyer_immediatement", "expirer"} == set(APPELS)


@pytest.mark.parametrize(("nom", "role", "statut"), CAS, ids=[f"{n}-{r}-{s}" for n, r, s in CAS])
def test_chaque_action_est_permise_ou_refusee_selon_la_table(nom, role, statut, heures_ouvrees):
    demande = DemandeFactory(**TRAITS[statut])
    par = _acteur(role, demande)
    avant = DemandeAAC.objects.get(pk=demande.pk)
    journal_avant = JournalDemande.objects.filter(demande=demande).count()

    # The table gives the role and the state; being party to the request (selectors.est_partie) comes first. The
    # laboratory is never party (no patient data): the question addressed to it is what lets it answer (R16).
    partie = par is None or est_partie(par, demande) or (nom == "repondre_laboratoire" and role == Role.LABORATOIRE)
    if partie and _permis(nom, statut, role):
        APPELS[nom](demande, par)
        apres = DemandeAAC.objects.get(pk=demande.pk)
        entree = workflow.transition("completer" if nom == "modifier" and role == Role.PHARMACIEN else nom)
        if nom == "soumettre":
            # R15: this compliant request is granted at once; otherwise it stays en évaluation.
            assert apres.statut in (StatutDemande.EN_EVALUATION, StatutDemande.OCTROYEE)
        else:
            assert apres.statut == (entree.vers or statut)
        assert apres.version > avant.version or nom in SANS_VERSION
        transitions = list(JournalDemande.objects.filter(demande=demande).values_list("transition", flat=True))
        if not (nom == "modifier" and demande.transmise_le is None):  # a private draft's edits are not journaled
            assert entree.nom in transitions[journal_avant:]
    else:
        with pytest.raises(DemandeError) as erreur:
            APPELS[nom](demande, par)
        roles_permis = workflow.transition(nom).roles | (
            workflow.transition("completer").roles if nom == "modifier" else set()
        )
        if role not in roles_permis or not partie:
            assert isinstance(erreur.value, TransitionInterdite)
            assert erreur.value.statut_http == 403
        else:
            assert isinstance(erreur.value, TransitionInterdite | ConflitEtat)
        assert erreur.value.texte  # a French sentence for the user
        apres = DemandeAAC.objects.get(pk=demande.pk)
        assert (apres.statut, apres.version) == (avant.statut, avant.version)
        assert JournalDemande.objects.filter(demande=demande).count() == journal_avant


@pytest.mark.parametrize("statut", StatutDemande.values)
def test_expirer_seulement_une_aac_octroyee_dont_la_duree_est_echue(statut):
    demande = DemandeFactory(**TRAITS[statut])
    if statut == StatutDemande.OCTROYEE:
        demande.decision.date_fin_traitement = timezone.localdate() - datetime.timedelta(days=1)
        demande.decision.save()
        services.demande_expirer(demande=demande)
        demande.refresh_from_db()
        assert demande.statut == StatutDemande.EXPIREE
        evenement = demande.journal.get(transition="expirer")
        assert evenement.acteur is None and evenement.role == workflow.SYSTEME
    else:
        with pytest.raises(ConflitEtat):
            services.demande_expirer(demande=demande)


def test_une_aac_en_cours_de_traitement_n_expire_pas_encore():
    demande = DemandeFactory(octroyee=True)
    with pytest.raises(ConflitEtat, match="R17"):
        services.demande_expirer(demande=demande)
    demande.refresh_from_db()
    assert demande.statut == StatutDemande.OCTROYEE


def test_les_boutons_de_la_page_suivent_la_table_pour_chaque_role():
    from demandes.selectors import actions_disponibles

    demande = DemandeFactory(transmise=True)
    pharmacien = _acteur(Role.PHARMACIEN, demande)
    assert [t.nom for t in actions_disponibles(pharmacien, demande)] == [
        "completer",
        "renvoyer",
        "soumettre",
        "joindre_piece",
    ]
    assert [t.nom for t in actions_disponibles(demande.prescripteur, demande)] == ["annuler", "joindre_piece"]
    # ANSM staff do not see a request before its submission.
    assert actions_disponibles(UtilisateurFactory(evaluateur=True), demande) == []
