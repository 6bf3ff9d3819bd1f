"""Filters of the request lists, shared by the pages and the API."""

import datetime

import django_filters
from django.db.models import Q
from django.utils import timezone

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


def _selectors():
    from . import selectors  # selectors import the models this module's filters are built on

    return selectors


class FileInstructionFilter(django_filters.FilterSet):
    """The ANSM review queue's filters (issue 5). The spécialité and établissement choices are those of the requests
    waiting for the ANSM; "assignées à moi" needs the request's user."""

    ANCIENNETES = [
        ("7", "Plus de 7 jours"),
        ("15", "Plus de 15 jours"),
        ("30", "Plus de 30 jours"),
        ("60", "Plus de 60 jours"),
    ]
    ASSIGNATIONS = [("moi", "Assignées à moi"), ("personne", "Non assignées")]

    q = django_filters.CharFilter(method="rechercher", label="Référence ou médicament")
    specialite = django_filters.ModelChoiceFilter(
        queryset=lambda request: _selectors().specialites_en_file(),
        label="Spécialité",
        empty_label="Toutes les spécialités",
    )
    urgence = django_filters.ChoiceFilter(choices=Urgence.choices, label="Urgence", empty_label="Toutes")
    anciennete = django_filters.ChoiceFilter(
        choices=ANCIENNETES, method="filtrer_anciennete", label="Soumise depuis", empty_label="Toute ancienneté"
    )
    etablissement = django_filters.ModelChoiceFilter(
        queryset=lambda request: _selectors().etablissements_en_file(),
        label="Établissement",
        empty_label="Tous les établissements",
    )
    assignation = django_filters.ChoiceFilter(
        choices=ASSIGNATIONS, method="filtrer_assignation", label="Assignation", empty_label="Toutes"
    )

    def rechercher(self, queryset, name, value):
        return DemandeFilter.rechercher(self, queryset, name, value)

    def filtrer_anciennete(self, queryset, name, value):
        limite = timezone.now() - datetime.timedelta(days=int(value))
        return queryset.filter(soumise_le__lte=limite)

    def filtrer_assignation(self, queryset, name, value):
        if value == "moi":
            utilisateur = getattr(self.request, "user", None)
            return queryset.filter(evaluateur_id=getattr(utilisateur, "pk", None))
        return queryset.filter(evaluateur__isnull=True)
