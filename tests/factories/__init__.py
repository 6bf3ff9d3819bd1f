from .comptes import EtablissementFactory, PUIFactory, UtilisateurFactory
from .demandes import DecisionFactory, DemandeFactory
from .referentiel import (
    AccesFactory,
    CompositionFactory,
    ConditionPrescriptionFactory,
    CritereFactory,
    DocumentFactory,
    IndicationFactory,
    LaboratoireFactory,
    ProlongationFactory,
    PUTFactory,
    RapportFactory,
    SpecialiteFactory,
    SubstanceFactory,
)

__all__ = [
    "AccesFactory",
    "CompositionFactory",
    "ConditionPrescriptionFactory",
    "CritereFactory",
    "DecisionFactory",
    "DemandeFactory",
    "DocumentFactory",
    "EtablissementFactory",
    "IndicationFactory",
    "LaboratoireFactory",
    "PUIFactory",
    "PUTFactory",
    "ProlongationFactory",
    "RapportFactory",
    "SpecialiteFactory",
    "SubstanceFactory",
    "UtilisateurFactory",
]
