"""Technical administration of the requests: read-only. Every change goes through the services (journal, rules,
locks); the admin never shows patient data, which is read only through the logged request pages."""

from django.contrib import admin

from .models import AccesDonneesPatient, Complement, Decision, DemandeAAC, JournalDemande, PieceJointe, Recours


class LectureSeuleAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class JournalInline(admin.TabularInline):
    model = JournalDemande
    fields = ["le", "transition", "statut_avant", "statut_apres", "acteur", "role"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DemandeAAC)
class DemandeAACAdmin(LectureSeuleAdmin):
    list_display = ["reference", "statut", "urgence", "prescripteur", "pui", "modifiee_le", "version"]
    list_filter = ["statut", "urgence", "type_medicament", "regularisation_a_posteriori"]
    search_fields = ["reference"]
    list_select_related = ["prescripteur", "pui__etablissement"]
    date_hierarchy = "cree_le"
    show_full_result_count = False  # 200,000 rows: no COUNT(*) of the unfiltered table on every page
    # No patient field (R43 data is read through the logged pages only).
    fields = [
        "reference",
        "statut",
        "version",
        "prescripteur",
        "etablissement",
        "pui",
        "pharmacien",
        "evaluateur",
        "type_medicament",
        "specialite",
        "indication",
        "urgence",
        "hors_heures",
        "regularisation_a_posteriori",
        "regularisee_le",
        "demande_initiale",
        "cree_le",
        "modifiee_le",
        "transmise_le",
        "soumise_le",
        "decidee_le",
    ]
    readonly_fields = fields
    inlines = [JournalInline]


@admin.register(Decision)
class DecisionAdmin(LectureSeuleAdmin):
    list_display = ["reference", "numero_aac", "sens", "immediate", "date_decision", "date_fin_traitement"]
    list_filter = ["sens", "immediate", "motif_refus"]
    search_fields = ["reference", "numero_aac", "demande__reference"]
    raw_id_fields = ["demande", "laboratoire", "decidee_par"]


@admin.register(Complement)
class ComplementAdmin(LectureSeuleAdmin):
    list_display = ["demande", "destinataire", "demande_le", "date_limite", "repondu_le"]
    list_filter = ["destinataire"]
    raw_id_fields = ["demande", "laboratoire", "demande_par", "repondu_par"]


@admin.register(Recours)
class RecoursAdmin(LectureSeuleAdmin):
    list_display = ["decision", "depose_le", "statut"]
    raw_id_fields = ["demande", "decision", "depose_par"]


@admin.register(JournalDemande)
class JournalDemandeAdmin(LectureSeuleAdmin):
    list_display = ["demande", "le", "transition", "statut_avant", "statut_apres", "acteur", "role"]
    list_filter = ["transition", "role"]
    search_fields = ["demande__reference"]
    raw_id_fields = ["demande", "acteur"]
    show_full_result_count = False


@admin.register(AccesDonneesPatient)
class AccesDonneesPatientAdmin(LectureSeuleAdmin):
    list_display = ["demande", "utilisateur", "le", "canal"]
    list_filter = ["canal"]
    search_fields = ["demande__reference", "utilisateur__email"]
    raw_id_fields = ["demande", "utilisateur"]
    show_full_result_count = False


@admin.register(PieceJointe)
class PieceJointeAdmin(LectureSeuleAdmin):
    list_display = ["demande", "nom", "type_mime", "taille", "deposee_le"]
    fields = ["demande", "complement", "nom", "type_mime", "taille", "empreinte", "deposee_par", "deposee_le"]
    readonly_fields = fields
