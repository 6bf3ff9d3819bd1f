"""Requests in every state of the workflow, as Traits: `DemandeFactory(octroyee=True)`.

By default a complete, compliant request on a referenced spécialité whose AAC is in force, in a referenced
indication with two criteria both attested: exactly what R15 grants at once. Traits put it in a later state the
way the services would have left it (dates, complement, decision), without the services' side effects.
"""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from demandes.enums import (
    DestinataireComplement,
    MotifRefus,
    SensDecision,
    StatutDemande,
    TypeMedicament,
)
from demandes.models import AttestationCritere, Complement, Decision, DemandeAAC

from .comptes import PUIFactory, UtilisateurFactory
from .referentiel import CritereFactory, IndicationFactory, LaboratoireFactory

JUSTIFICATION = "Aucune alternative appropriée ; données publiées favorables ; inclusion en essai impossible."


def _avant(jours: int = 0) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=jours)


class DemandeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DemandeAAC
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"D-2026-{900000 + n:06d}")
    statut = StatutDemande.BROUILLON
    prescripteur = factory.SubFactory(UtilisateurFactory, prescripteur=True)
    etablissement = factory.SelfAttribute("prescripteur.etablissement")
    pui = factory.SubFactory(PUIFactory, etablissement=factory.SelfAttribute("..etablissement"))
    type_medicament = TypeMedicament.REFERENCE_INDICATION
    indication = factory.SubFactory(IndicationFactory)
    specialite = factory.SelfAttribute("indication.acces.specialite")
    patient_initiales = "J.-D."
    patient_age = 54
    patient_sexe = "F"
    patient_poids_kg = Decimal("62.5")
    posologie = "2 comprimés par jour, matin et soir"
    duree_traitement_jours = 180
    traitement_differable = False
    engagement_information_patient = True
    medecin_traitant_informe = True
    engagement_surveillance = True
    engagement_put_pharmacovigilance = True
    engagement_reponse_ansm = True

    class Params:
        transmise = factory.Trait(statut=StatutDemande.TRANSMISE_PHARMACIEN, transmise_le=factory.LazyFunction(_avant))
        renvoyee = factory.Trait(statut=StatutDemande.RENVOYEE, transmise_le=factory.LazyFunction(_avant))
        en_evaluation = factory.Trait(
            statut=StatutDemande.EN_EVALUATION,
            transmise_le=factory.LazyFunction(lambda: _avant(2)),
            soumise_le=factory.LazyFunction(lambda: _avant(1)),
        )
        complement_demande = factory.Trait(en_evaluation=True, statut=StatutDemande.COMPLEMENT_DEMANDE)
        complement_fourni = factory.Trait(en_evaluation=True, statut=StatutDemande.COMPLEMENT_FOURNI)
        octroyee = factory.Trait(
            en_evaluation=True, statut=StatutDemande.OCTROYEE, decidee_le=factory.LazyFunction(_avant)
        )
        refusee = factory.Trait(
            en_evaluation=True, statut=StatutDemande.REFUSEE, decidee_le=factory.LazyFunction(_avant)
        )
        expiree = factory.Trait(
            en_evaluation=True, statut=StatutDemande.EXPIREE, decidee_le=factory.LazyFunction(_avant)
        )
        annulee = factory.Trait(statut=StatutDemande.ANNULEE)
        # A referenced spécialité asked for in another indication (R12): justified, no criteria.
        hors_indication = factory.Trait(
            type_medicament=TypeMedicament.REFERENCE_HORS_INDICATION,
            indication=None,
            specialite=factory.SubFactory("tests.factories.referentiel.SpecialiteFactory"),
            indication_libre="Forme réfractaire de la maladie, hors indication référencée",
            justification=JUSTIFICATION,
        )
        non_reference = factory.Trait(
            type_medicament=TypeMedicament.NON_REFERENCE,
            indication=None,
            specialite=None,
            medicament_nom="XB-4021",
            medicament_dci="exemplumab",
            medicament_dosage="100 mg",
            medicament_forme="solution injectable",
            medicament_laboratoire="Laboratoire étranger",
            indication_libre="Maladie ultra-rare en impasse thérapeutique",
            justification=JUSTIFICATION,
        )

    @factory.post_generation
    def criteres(obj, create, extracted, **kwargs):
        """Two criteria on the indication, attested as `extracted` says (True by default; a list per criterion)."""
        if not create or obj.indication_id is None:
            return
        criteres = list(obj.indication.criteres.all()) or [CritereFactory(indication=obj.indication) for _ in range(2)]
        reponses = extracted if isinstance(extracted, list | tuple) else [extracted is not False] * len(criteres)
        for critere, rempli in zip(criteres, reponses, strict=False):
            if rempli is not None:
                AttestationCritere.objects.get_or_create(demande=obj, critere=critere, defaults={"rempli": rempli})

    @factory.post_generation
    def etat(obj, create, extracted, **kwargs):
        """The rows the services would have written for the state: the pending or answered complement, the
        decision with its appeal deadline."""
        if not create or extracted is False:
            return
        if obj.statut in (StatutDemande.COMPLEMENT_DEMANDE, StatutDemande.COMPLEMENT_FOURNI):
            evaluateur = UtilisateurFactory(evaluateur=True)
            fourni = obj.statut == StatutDemande.COMPLEMENT_FOURNI
            Complement.objects.create(
                demande=obj,
                destinataire=DestinataireComplement.PUI,
                question="Merci de préciser les traitements antérieurs.",
                date_limite=timezone.localdate() + datetime.timedelta(days=15),
                demande_par=evaluateur,
                reponse="Deux lignes antérieures, en échec." if fourni else "",
                repondu_par=obj.prescripteur if fourni else None,
                repondu_le=timezone.now() if fourni else None,
            )
        if obj.statut in (StatutDemande.OCTROYEE, StatutDemande.REFUSEE, StatutDemande.EXPIREE):
            DecisionFactory(
                demande=obj,
                sens=SensDecision.REFUS if obj.statut == StatutDemande.REFUSEE else SensDecision.OCTROI,
                expiree=obj.statut == StatutDemande.EXPIREE,
            )


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    demande = factory.SubFactory(DemandeFactory, octroyee=True, etat=False)
    sens = SensDecision.OCTROI
    reference = factory.Sequence(lambda n: f"DEC-2026-{900000 + n:06d}")
    numero_aac = factory.LazyAttributeSequence(
        lambda o, n: f"AAC-2026-{900000 + n:06d}" if o.sens == SensDecision.OCTROI else None
    )
    date_decision = factory.LazyFunction(timezone.now)
    notifiee_le = factory.LazyFunction(timezone.now)
    date_limite_recours = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=60))
    duree_jours = factory.LazyAttribute(lambda o: 180 if o.sens == SensDecision.OCTROI else None)
    date_debut = factory.LazyAttribute(lambda o: timezone.localdate() if o.sens == SensDecision.OCTROI else None)
    date_fin_traitement = factory.LazyAttribute(
        lambda o: timezone.localdate() + datetime.timedelta(days=179) if o.sens == SensDecision.OCTROI else None
    )
    laboratoire = factory.LazyAttribute(
        lambda o: (
            (o.demande.specialite.titulaire if o.demande.specialite_id else LaboratoireFactory())
            if o.sens == SensDecision.OCTROI
            else None
        )
    )
    reserve_hospitalier = factory.LazyAttribute(lambda o: o.sens == SensDecision.OCTROI)
    retrocession = False
    motif_refus = factory.LazyAttribute(
        lambda o: "" if o.sens == SensDecision.OCTROI else MotifRefus.DONNEES_INSUFFISANTES
    )

    class Params:
        expiree = factory.Trait(
            date_debut=factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=200)),
            date_fin_traitement=factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=21)),
            date_decision=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=200)),
            notifiee_le=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=200)),
            date_limite_recours=factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=140)),
        )
