from .comptes import EtablissementFactory, PUIFactory, UtilisateurFactory
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
