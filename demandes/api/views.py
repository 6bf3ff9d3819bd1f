"""The requests API (/api/v1/demandes/): the same services as the pages, one endpoint per workflow action.

Errors: a field that does not parse is a 400 per field; a broken rule is a 400 with the rule; an action the role
may not take is a 403; a stale `version` or a state that changed meanwhile is a 409; a request the caller is not
party to is a 404.
"""

import re

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from .. import selectors, services, workflow
from ..enums import CanalAcces
from ..exceptions import DemandeError
from ..filters import DemandeFilter
from . import serializers as s
from .permissions import PartieALaDemande

FORME_CLE_IDEMPOTENCE = r"^[A-Za-z0-9._:-]{1,64}$"
ENTETE_IDEMPOTENCE = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    pattern=FORME_CLE_IDEMPOTENCE,
    description="Clé choisie par le client (1 à 64 lettres, chiffres ou . _ : -, un UUID par exemple) : un second "
    "envoi avec la même clé renvoie la demande déjà créée (200).",
)


def _cle_idempotence(request) -> str | None:
    """The Idempotency-Key header, checked before it reaches the database (a NUL byte or 500 characters would make
    PostgreSQL fail instead of the client hearing why)."""
    cle = request.headers.get("Idempotency-Key") or None
    if cle is not None and not re.fullmatch(FORME_CLE_IDEMPOTENCE, cle):
        raise DemandeError(
            "En-tête Idempotency-Key invalide : de 1 à 64 lettres, chiffres ou caractères . _ : - (un UUID convient).",
            champ="Idempotency-Key",
        )
    return cle


ERREURS = {
    400: OpenApiResponse(description="Champ invalide ou règle non respectée (message en français, règle citée)"),
    403: OpenApiResponse(description="Action réservée à un autre rôle"),
    404: OpenApiResponse(description="Demande introuvable (ou vous n'y êtes pas partie)"),
    409: OpenApiResponse(description="La demande a été modifiée entre-temps (version ou état)"),
}


def _action_schema(requete, reponse=s.DemandeSerializer, description=""):
    return extend_schema(request=requete, responses={200: reponse, **ERREURS}, description=description)


@extend_schema_view(
    list=extend_schema(description="Les demandes dont vous êtes partie (sans données du patient)."),
    retrieve=extend_schema(
        description="Une demande, données du patient comprises : chaque lecture est journalisée.",
        responses={200: s.DemandeSerializer, 404: ERREURS[404]},
    ),
    create=extend_schema(
        request=s.DemandeEcritureSerializer,
        responses={201: s.DemandeSerializer, 200: s.DemandeSerializer, **ERREURS},
        parameters=[ENTETE_IDEMPOTENCE],
        description="Crée un brouillon (prescripteur).",
    ),
    partial_update=extend_schema(
        request=s.ModificationSerializer,
        responses={200: s.DemandeSerializer, **ERREURS},
        description="Enregistre des champs d'un brouillon (prescripteur) ou d'une demande à vérifier (pharmacien).",
    ),
)
class DemandeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "reference"
    lookup_value_regex = "[A-Za-z0-9-]+"
    permission_classes = [PartieALaDemande]
    filterset_class = DemandeFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        if self.action == "list":
            return selectors.demandes_recentes(self.request.user)
        return selectors.demandes_visibles_par(self.request.user)

    def get_serializer_class(self):
        if self.action == "list":
            return s.DemandeListeSerializer
        return s.DemandeSerializer

    def handle_exception(self, exc):
        if isinstance(exc, DemandeError):
            return Response(exc.en_dict(), status=exc.statut_http)
        if isinstance(exc, Http404):
            exc = NotFound("Demande introuvable.")
        return super().handle_exception(exc)

    def _demande(self, reference, *transitions):
        """The request, looked up before any input is parsed: a non-party gets the same 404 on every endpoint, and a
        party whose role takes none of these `transitions` (workflow table) a 403, whatever the body says."""
        demande = get_object_or_404(selectors.demandes_visibles_par(self.request.user), reference=reference)
        self.check_object_permissions(self.request, demande)
        if transitions:
            workflow.role_verifier(self.request.user, *transitions)
        return demande

    def _sortie(self, reference, code=status.HTTP_200_OK):
        demande = selectors.demande_detail(self.request.user, reference)
        self.check_object_permissions(self.request, demande)
        services.acces_donnees_enregistrer(demande=demande, utilisateur=self.request.user, canal=CanalAcces.API)
        return Response(s.DemandeSerializer(demande, context={"request": self.request}).data, status=code)

    def _entree(self, classe):
        entree = classe(data=self.request.data, context={"request": self.request})
        entree.is_valid(raise_exception=True)
        return entree.validated_data

    def retrieve(self, request, reference=None):
        return self._sortie(reference)

    def create(self, request):
        services.deposant_verifier(request.user)
        entree = s.DemandeEcritureSerializer(data=request.data, context={"request": request})
        entree.is_valid(raise_exception=True)
        donnees, attestations = entree.donnees()
        if attestations is not None:
            donnees["attestations"] = attestations
        demande, creee = services.demande_creer(
            par=request.user, donnees=donnees, cle_idempotence=_cle_idempotence(request)
        )
        return self._sortie(demande.reference, status.HTTP_201_CREATED if creee else status.HTTP_200_OK)

    def partial_update(self, request, reference=None):
        demande = self._demande(reference, "modifier", "completer")
        entree = s.ModificationSerializer(data=request.data, partial=True, context={"request": request})
        entree.is_valid(raise_exception=True)
        if "version" not in entree.validated_data:
            raise DemandeError("Indiquez la version de la demande que vous modifiez.", champ="version")
        donnees, attestations = entree.donnees()
        services.demande_modifier(
            demande=demande,
            par=request.user,
            version=entree.validated_data["version"],
            donnees=donnees,
            attestations=attestations,
        )
        return self._sortie(reference)

    # --- Workflow actions ---

    @_action_schema(s.VersionSerializer, description="Le prescripteur transmet la demande à la PUI (R10).")
    @action(detail=True, methods=["post"])
    def transmettre(self, request, reference=None):
        demande = self._demande(reference, "transmettre")
        v = self._entree(s.VersionSerializer)
        services.demande_transmettre(demande=demande, par=request.user, version=v["version"])
        return self._sortie(reference)

    @_action_schema(s.RenvoiSerializer, description="Le pharmacien renvoie la demande au prescripteur (R14).")
    @action(detail=True, methods=["post"])
    def renvoyer(self, request, reference=None):
        demande = self._demande(reference, "renvoyer")
        v = self._entree(s.RenvoiSerializer)
        services.demande_renvoyer(
            demande=demande, par=request.user, version=v["version"], commentaire=v["commentaire"]
        )
        return self._sortie(reference)

    @_action_schema(
        s.VersionSerializer,
        description="Le pharmacien soumet à l'ANSM : octroi immédiat si la demande est conforme (R15), sinon "
        "évaluation.",
    )
    @action(detail=True, methods=["post"])
    def soumettre(self, request, reference=None):
        demande = self._demande(reference, "soumettre")
        v = self._entree(s.VersionSerializer)
        services.demande_soumettre(demande=demande, par=request.user, version=v["version"])
        return self._sortie(reference)

    @_action_schema(s.ComplementDemandeSerializer, description="L'évaluateur demande un complément à la PUI.")
    @action(detail=True, methods=["post"], url_path="demander-complement")
    def demander_complement(self, request, reference=None):
        demande = self._demande(reference, "demander_complement")
        v = self._entree(s.ComplementDemandeSerializer)
        services.complement_demander(
            demande=demande,
            par=request.user,
            version=v["version"],
            question=v["question"],
            date_limite=v["date_limite"],
        )
        return self._sortie(reference)

    @_action_schema(s.ComplementReponseSerializer, description="La PUI répond au complément demandé (R14).")
    @action(detail=True, methods=["post"], url_path="repondre-complement")
    def repondre_complement(self, request, reference=None):
        demande = self._demande(reference, "repondre_complement")
        v = self._entree(s.ComplementReponseSerializer)
        services.complement_repondre(demande=demande, par=request.user, version=v["version"], reponse=v["reponse"])
        return self._sortie(reference)

    @_action_schema(s.OctroiSerializer, description="L'évaluateur octroie l'AAC (R17, R28, R45).")
    @action(detail=True, methods=["post"])
    def octroyer(self, request, reference=None):
        demande = self._demande(reference, "octroyer")
        v = self._entree(s.OctroiSerializer)
        services.demande_octroyer(
            demande=demande,
            par=request.user,
            version=v["version"],
            duree_jours=v["duree_jours"],
            laboratoire=v["laboratoire"],
            reserve_hospitalier=v["reserve_hospitalier"],
            restriction_prescripteurs=v["restriction_prescripteurs"],
            commentaire=v["commentaire"],
        )
        return self._sortie(reference)

    @_action_schema(s.RefusSerializer, description="L'évaluateur refuse l'AAC (R18).")
    @action(detail=True, methods=["post"])
    def refuser(self, request, reference=None):
        demande = self._demande(reference, "refuser")
        v = self._entree(s.RefusSerializer)
        services.demande_refuser(
            demande=demande,
            par=request.user,
            version=v["version"],
            motif=v["motif_refus"],
            motif_texte=v["motif_refus_texte"],
            commentaire=v["commentaire"],
        )
        return self._sortie(reference)

    @_action_schema(s.CommentaireSerializer, description="L'évaluateur confirme un octroi hors heures (R44).")
    @action(detail=True, methods=["post"])
    def regulariser(self, request, reference=None):
        demande = self._demande(reference, "regulariser")
        v = self._entree(s.CommentaireSerializer)
        services.demande_regulariser(
            demande=demande, par=request.user, version=v["version"], commentaire=v["commentaire"]
        )
        return self._sortie(reference)

    @_action_schema(s.CommentaireSerializer, description="Le prescripteur annule sa demande avant la décision.")
    @action(detail=True, methods=["post"])
    def annuler(self, request, reference=None):
        demande = self._demande(reference, "annuler")
        v = self._entree(s.CommentaireSerializer)
        services.demande_annuler(demande=demande, par=request.user, version=v["version"], commentaire=v["commentaire"])
        return self._sortie(reference)

    @_action_schema(s.RecoursSerializer, description="Recours gracieux dans les 2 mois de la notification (R19).")
    @action(detail=True, methods=["post"])
    def recours(self, request, reference=None):
        demande = self._demande(reference, "former_recours")
        v = self._entree(s.RecoursSerializer)
        services.recours_former(demande=demande, par=request.user, version=v["version"], motif=v["motif"])
        return self._sortie(reference)

    @extend_schema(
        request=s.VersionSerializer,
        responses={201: s.DemandeSerializer, 200: s.DemandeSerializer, **ERREURS},
        parameters=[ENTETE_IDEMPOTENCE],
        description="Crée le renouvellement (nouvelle demande liée, pré-remplie ; R20, R46).",
    )
    @action(detail=True, methods=["post"])
    def renouveler(self, request, reference=None):
        demande = self._demande(reference, "renouveler")
        v = self._entree(s.VersionSerializer)
        nouvelle, creee = services.demande_renouveler(
            demande=demande,
            par=request.user,
            version=v["version"],
            cle_idempotence=_cle_idempotence(request),
        )
        return self._sortie(nouvelle.reference, status.HTTP_201_CREATED if creee else status.HTTP_200_OK)

    @extend_schema(
        request={"multipart/form-data": s.PieceSerializer},
        responses={201: s.PieceSortieSerializer, **ERREURS},
        description="Joint un fichier (PDF, PNG ou JPEG, vérifié par son contenu).",
    )
    @action(detail=True, methods=["post"], url_path="pieces-jointes")
    def pieces_jointes(self, request, reference=None):
        demande = self._demande(reference, "joindre_piece")
        v = self._entree(s.PieceSerializer)
        piece = services.piece_joindre(demande=demande, par=request.user, fichier=v["fichier"])
        return Response(
            s.PieceSortieSerializer(piece).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: ERREURS[404]},
        description="La décision en PDF (prescripteur, PUI et ANSM seulement ; R17).",
    )
    @action(detail=True, methods=["get"])
    def decision(self, request, reference=None):
        demande = self._demande(reference)
        decision = selectors.decision_de(demande)
        if decision is None:
            raise NotFound("Aucune décision n'a encore été rendue sur cette demande.")
        services.acces_donnees_enregistrer(demande=demande, utilisateur=request.user, canal=CanalAcces.PDF)
        return FileResponse(
            selectors.decision_pdf_ouvrir(decision),
            as_attachment=True,
            filename=f"{decision.numero_aac or decision.reference}.pdf",
            content_type="application/pdf",
        )
