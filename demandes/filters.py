"""Filters of the request lists, shared by the pages and the API."""

import django_filters
from django.db.models import Q

from .enums import StatutDemande, Urgence


class DemandeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="rechercher", label="Référence ou médicament")
    statut = django_filters.ChoiceFilter(choices=StatutDemande.choices, label="État", empty_label="Tous les états")
    urgence = django_filters.ChoiceFilter(choices=Urgence.choices, label="Urgence", empty_label="Toutes")

    def rechercher(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__iexact=value) | Q(specialite__nom__icontains=value) | Q(medicament_nom__icontains=value)
        )
