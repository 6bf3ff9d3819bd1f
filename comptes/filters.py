"""Filters of the ANSM administrators' audit pages: the audit trail and the log of patient-data reads.

The page and its CSV download share the FilterSet, so a download holds exactly the rows the page lists.
"""

import datetime

import django_filters
from django.apps import apps
from django.utils import timezone

from demandes.enums import CanalAcces

from .audit import MODELES_AUDITES
from .enums import OperationAudit


def libelles_tables() -> list[tuple[str, str]]:
    """(table, label) of each audited table."""
    return [(apps.get_model(modele)._meta.db_table, libelle) for modele, libelle in MODELES_AUDITES.items()]


def _debut_du_jour(jour: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(jour, datetime.time.min))


class _PeriodeEtAuteur(django_filters.FilterSet):
    """Date range (whole days, local time, both ends included) and the author's email address."""

    du = django_filters.DateFilter(label="Du", method="filtrer_du")
    au = django_filters.DateFilter(label="Au (inclus)", method="filtrer_au")
    utilisateur = django_filters.CharFilter(
        label="Utilisateur (adresse électronique)", field_name="utilisateur__email", lookup_expr="icontains"
    )

    # Bounds on the timestamp itself, not on its date: the index on the date column stays usable.
    def filtrer_du(self, queryset, name, value):
        return queryset.filter(le__gte=_debut_du_jour(value))

    def filtrer_au(self, queryset, name, value):
        return queryset.filter(le__lt=_debut_du_jour(value + datetime.timedelta(days=1)))


class JournalAuditFilter(_PeriodeEtAuteur):
    table = django_filters.ChoiceFilter(label="Table", field_name="table_nom", empty_label="Toutes les tables")
    reference = django_filters.CharFilter(label="Référence de la demande", method="filtrer_reference")
    objet = django_filters.CharFilter(label="Identifiant de la ligne", field_name="objet_id")
    operation = django_filters.ChoiceFilter(
        label="Opération", choices=OperationAudit.choices, empty_label="Toutes les opérations"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read from the model registry when the filter is built, not at import time.
        self.filters["table"].extra["choices"] = libelles_tables()

    def filtrer_reference(self, queryset, name, value):
        value = value.strip().upper()
        return queryset.filter(demande_reference=value) if value else queryset


class AccesDonneesFilter(_PeriodeEtAuteur):
    reference = django_filters.CharFilter(label="Référence de la demande", method="filtrer_reference")
    canal = django_filters.ChoiceFilter(label="Canal", choices=CanalAcces.choices, empty_label="Tous les canaux")

    def filtrer_reference(self, queryset, name, value):
        value = value.strip().upper()
        return queryset.filter(demande__reference=value) if value else queryset
