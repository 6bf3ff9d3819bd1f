"""The public read-only API of the référentiel (/api/v1/): same FilterSet and search as the page.

Public reads carry ETag / Last-Modified and Cache-Control so that re-users (and caches) ask again cheaply: a
conditional request costs one aggregate query and answers 304 when nothing changed.
"""

import hashlib

from django.core.paginator import EmptyPage
from django.db.models import Max
from django.db.models.functions import Greatest
from django.http import Http404
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from .. import selectors
from ..filters import (
    AccesFilterSet,
    IndicationFilterSet,
    SpecialiteFilterSet,
    filtres_du_referentiel,
    page_du_referentiel,
)
from . import serializers

DUREE_CACHE = 300  # seconds a client or shared cache may reuse a public read without asking again


class PaginationReferentiel(PageNumberPagination):
    """DRF page numbers, but the rows, the total and the data version come from one query (selectors.paginer)."""

    page_size = 20
    page_size_query_param = "taille"
    max_page_size = 100
    invalid_page_message = "Page invalide : {message}"

    def paginate_queryset(self, queryset, request, view=None, version=None):
        return self.lire(
            request,
            lambda numero, par_page: selectors.paginer(
                queryset, numero=numero, par_page=par_page, version=version, strict=True
            ),
        )

    def lire(self, request, lire_page):
        """The page the request asks for, read by lire_page(numero, par_page); 404 for a page that is not one."""
        self.request = request
        valeur = request.query_params.get(self.page_query_param) or "1"
        try:
            numero = int(valeur)
            if numero < 1:
                raise ValueError
            self.page = lire_page(numero, self.get_page_size(request))
        except ValueError:
            raise NotFound(self.invalid_page_message.format(message="numéro de page attendu.")) from None
        except EmptyPage as exc:
            raise NotFound(self.invalid_page_message.format(message=str(exc))) from None
        return self.page.object_list


class LectureConditionnelleMixin:
    """list() and retrieve() answer 304 to If-None-Match / If-Modified-Since when the data did not change."""

    message_introuvable = "Aucun élément public ne correspond à cet identifiant."

    # The data a list shows changes when this changes (with the row count): its ETag and Last-Modified.
    version_liste = Max("mis_a_jour_le")

    def version_objet(self, pk):  # -> latest update, or None when the object is not public
        raise NotImplementedError

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            raise NotFound(self.message_introuvable) from None

    def _etag(self, request, *elements) -> str:
        # The representation depends on the query (filters, page), the renderer (JSON or browsable) and the data.
        empreinte = hashlib.sha256(
            "|".join([request.get_full_path(), request.accepted_renderer.format, *map(str, elements)]).encode()
        ).hexdigest()[:32]
        return f'"{empreinte}"'

    def _conditionnelle(self, request, dernier, *elements):
        etag = self._etag(request, dernier.isoformat() if dernier else "", *elements)
        horodatage = int(dernier.timestamp()) if dernier else None
        return etag, horodatage, get_conditional_response(request, etag=etag, last_modified=horodatage)

    def _entetes(self, reponse, etag, horodatage):
        reponse["ETag"] = etag
        if horodatage is not None:
            reponse["Last-Modified"] = http_date(horodatage)
        patch_cache_control(reponse, public=True, max_age=DUREE_CACHE)
        patch_vary_headers(reponse, ["Accept"])
        return reponse

    # The list's JSON for anonymous clients may come from selectors.page_en_cache (keyed by the référentiel's
    # version): set on the viewsets whose list is read often enough.
    liste_en_cache = False

    def list(self, request, *args, **kwargs):
        # Not super().list(): it would build the FilterSet and validate it a second time. One query gives the
        # page, the total and the version.
        if self.liste_en_cache and request.accepted_renderer.format == "json":
            cle = f"api|{request.build_absolute_uri()}"
            donnees, dernier, nombre = selectors.page_en_cache(cle, lambda: self._liste(request), pour=request.user)
        else:
            donnees, dernier, nombre = self._liste(request)
        etag, horodatage, reponse = self._conditionnelle(request, dernier, nombre)
        if reponse is None:
            reponse = Response(donnees)
        return self._entetes(reponse, etag, horodatage)

    def _liste(self, request) -> tuple[dict, object, int]:
        """(paginated representation, latest update, row count) of the list the request asks for."""
        lignes = self.lire_liste(request)
        page = self.paginator.page
        donnees = self.get_paginated_response(self.representer_liste(lignes)).data
        return donnees, page.version, page.paginator.count

    def lire_liste(self, request) -> list:
        queryset = self.filter_queryset(self.get_queryset())  # a bad filter value answers 400 here
        return self.paginator.paginate_queryset(queryset, request, view=self, version=self.version_liste)

    def representer_liste(self, lignes) -> list:
        return self.get_serializer(lignes, many=True).data

    def retrieve(self, request, *args, **kwargs):
        dernier = self.version_objet(kwargs[self.lookup_field])
        if dernier is None:
            return super().retrieve(request, *args, **kwargs)  # the 404
        etag, horodatage, reponse = self._conditionnelle(request, dernier)
        if reponse is None:
            reponse = super().retrieve(request, *args, **kwargs)
        return self._entetes(reponse, etag, horodatage)


_REPONSE_304 = OpenApiResponse(
    description="Non modifié depuis la version indiquée (If-None-Match / If-Modified-Since)."
)


@extend_schema_view(
    list=extend_schema(
        summary="Spécialités du référentiel",
        description="Recherche plein texte (paramètre q) et filtres identiques à ceux de la page du référentiel.",
        responses={200: serializers.SpecialiteListeSerializer(many=True), 304: _REPONSE_304},
    ),
    retrieve=extend_schema(
        summary="Fiche d'une spécialité",
        description="Accès dérogatoires avec indications et critères d'octroi, PUT, résumés de rapports, documents.",
        responses={200: serializers.SpecialiteDetailSerializer, 304: _REPONSE_304},
    ),
)
class SpecialiteViewSet(LectureConditionnelleMixin, viewsets.ReadOnlyModelViewSet):
    """Spécialités du référentiel public (au moins un accès dérogatoire, fiche publiée)."""

    permission_classes = [AllowAny]
    pagination_class = PaginationReferentiel
    filterset_class = SpecialiteFilterSet
    message_introuvable = "Aucune spécialité du référentiel ne porte cet identifiant."
    lookup_value_regex = r"\d+"
    liste_en_cache = True

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.specialites_fiches()
        return selectors.specialites_candidates()  # the FilterSet applies R1 with the type and state filters

    def lire_liste(self, request) -> list:
        # The page's own reading (filters.page_du_referentiel: the exact search's page first), with the same
        # answers as DjangoFilterBackend for a bad filter value.
        filtres = filtres_du_referentiel(request.query_params)
        if not filtres.is_valid():
            raise translate_validation(filtres.errors)
        return self.paginator.lire(
            request,
            lambda numero, par_page: page_du_referentiel(
                filtres, numero=numero, par_page=par_page, version=self.version_liste, strict=True
            )[1],
        )

    def representer_liste(self, lignes) -> list:
        # The rows are dicts (selectors.specialites_lignes): serializers.specialites_en_liste gives them the shape
        # SpecialiteListeSerializer documents, without a model instance or a serializer field per value.
        return serializers.specialites_en_liste(lignes, requete=self.request)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.SpecialiteDetailSerializer
        return serializers.SpecialiteListeSerializer

    def version_objet(self, pk):
        return selectors.specialites_publiques().filter(pk=pk).values_list("mis_a_jour_le", flat=True).first()


@extend_schema_view(
    list=extend_schema(
        summary="Accès dérogatoires publiés",
        responses={200: serializers.AccesSerializer(many=True), 304: _REPONSE_304},
    ),
    retrieve=extend_schema(
        summary="Un accès dérogatoire", responses={200: serializers.AccesSerializer, 304: _REPONSE_304}
    ),
)
class AccesViewSet(LectureConditionnelleMixin, viewsets.ReadOnlyModelViewSet):
    """Accès dérogatoires publiés (AAC, AAP, CPC, ATU et RTU historiques) et leur spécialité."""

    permission_classes = [AllowAny]
    pagination_class = PaginationReferentiel
    filterset_class = AccesFilterSet
    message_introuvable = "Aucun accès dérogatoire publié ne porte cet identifiant."
    serializer_class = serializers.AccesSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.acces_references().order_by("specialite__nom", "type_acces", "id")

    version_liste = Max(Greatest("mis_a_jour_le", "specialite__mis_a_jour_le"))

    def version_objet(self, pk):
        dernier, nombre = selectors.acces_version(self.get_queryset().filter(pk=pk))
        return dernier if nombre else None


@extend_schema_view(
    list=extend_schema(
        summary="Indications et critères d'octroi publiés",
        responses={200: serializers.IndicationListeSerializer(many=True), 304: _REPONSE_304},
    ),
    retrieve=extend_schema(
        summary="Une indication", responses={200: serializers.IndicationListeSerializer, 304: _REPONSE_304}
    ),
)
class IndicationViewSet(LectureConditionnelleMixin, viewsets.ReadOnlyModelViewSet):
    """Indications publiées avec leurs critères d'octroi."""

    permission_classes = [AllowAny]
    pagination_class = PaginationReferentiel
    filterset_class = IndicationFilterSet
    message_introuvable = "Aucune indication publiée ne porte cet identifiant."
    serializer_class = serializers.IndicationListeSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return (
            selectors.indications_publiques()
            .prefetch_related("criteres")
            .order_by("acces__specialite__nom", "acces_id", "ordre", "id")
        )

    version_liste = Max(Greatest("acces__mis_a_jour_le", "acces__specialite__mis_a_jour_le"))

    def version_objet(self, pk):
        dernier, nombre = selectors.indications_version(self.get_queryset().filter(pk=pk))
        return dernier if nombre else None
