from .comptes import EtablissementFactory, PUIFactory, UtilisateurFactory
from .referentiel import (
    AccesFactory,
    CritereFactory,
    IndicationFactory,
    LaboratoireFactory,
    SpecialiteFactory,
    SubstanceFactory,
)

__all__ = [
    "AccesFactory",
    "CritereFactory",
    "EtablissementFactory",
    "IndicationFactory",
    "LaboratoireFactory",
    "PUIFactory",
    "SpecialiteFactory",
    "SubstanceFactory",
    "UtilisateurFactory",
]
