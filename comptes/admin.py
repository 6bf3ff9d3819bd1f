"""Back-office of the ANSM administrators: accounts and their attachments, the email outbox, the account journal.

Thin: second-factor resets and email retries go through comptes.services.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Exists, OuterRef
from django.utils.text import Truncator
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import services
from .enums import Role
from .models import PUI, Etablissement, EvenementCompte, Notification, Utilisateur
from .views import adresse_ip

# What each role must be attached to (the database constraints of Utilisateur say the same).
RATTACHEMENTS_PAR_ROLE = {
    Role.PRESCRIPTEUR: ("rpps", "etablissement"),
    Role.PHARMACIEN: ("rpps", "pui", "etablissement"),
    Role.LABORATOIRE: ("laboratoire",),
    Role.EVALUATEUR: (),
    Role.ADMINISTRATEUR: (),
}
RATTACHEMENTS = ("rpps", "etablissement", "pui", "laboratoire")


class UtilisateurCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = Utilisateur
        fields = ("email",)


class UtilisateurModificationForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = Utilisateur


@admin.register(Utilisateur)
class UtilisateurAdmin(UserAdmin):
    form = UtilisateurModificationForm
    add_form = UtilisateurCreationForm
    list_display = ("email", "nom", "prenom", "role", "etablissement", "laboratoire", "is_active", "second_facteur")
    list_filter = ("role", "is_active", "etablissement__territoire")
    list_select_related = ("etablissement", "laboratoire")
    search_fields = ("email", "nom", "prenom", "rpps", "etablissement__nom", "etablissement__finess")
    ordering = ("nom", "prenom", "email")
    autocomplete_fields = ("etablissement", "pui")
    readonly_fields = ("last_login", "date_joined")
    filter_horizontal = ("groups", "user_permissions")
    actions = ["reinitialiser_second_facteur"]
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "role", "prenom", "nom", "fonction", "telephone")}),
        (
            "Rattachement",
            {
                "classes": ("wide",),
                "description": "Prescripteur : RPPS et établissement. Pharmacien : RPPS et PUI. "
                "Laboratoire : son laboratoire. Évaluateur et administrateur : aucun.",
                "fields": RATTACHEMENTS,
            },
        ),
        (None, {"classes": ("wide",), "fields": ("usable_password", "password1", "password2")}),
    )

    def get_fieldsets(self, request, obj=None):
        """The attachments the account's role needs come first; the others wait, folded, for a change of role."""
        if obj is None:
            return self.add_fieldsets
        du_role = RATTACHEMENTS_PAR_ROLE.get(obj.role, RATTACHEMENTS)
        autres = tuple(champ for champ in RATTACHEMENTS if champ not in du_role)
        fieldsets = [
            (None, {"fields": ("email", "password")}),
            ("Identité", {"fields": ("prenom", "nom", "fonction", "telephone")}),
            (f"Rôle : {obj.get_role_display()}", {"fields": ("role", *du_role)}),
        ]
        if autres:
            fieldsets.append(
                (
                    "Autres rattachements",
                    {
                        "classes": ("collapse",),
                        "description": "À renseigner seulement si vous changez le rôle du compte.",
                        "fields": autres,
                    },
                )
            )
        fieldsets += [
            ("Droits", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
            ("Dates", {"fields": ("last_login", "date_joined")}),
        ]
        return fieldsets

    def get_queryset(self, request):
        confirme = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(a_second_facteur=Exists(confirme))

    @admin.display(description="second facteur", boolean=True, ordering="a_second_facteur")
    def second_facteur(self, obj) -> bool | None:
        return obj.a_second_facteur if obj.second_facteur_requis else None

    @admin.action(description="Réinitialiser le second facteur (téléphone perdu)")
    def reinitialiser_second_facteur(self, request, queryset):
        for utilisateur in queryset:
            services.double_facteur_reinitialiser(
                utilisateur=utilisateur, par=request.user, adresse_ip=adresse_ip(request)
            )
        self.message_user(
            request,
            f"Second facteur réinitialisé pour {queryset.count()} compte(s) : un nouvel appareil sera demandé à la "
            "prochaine connexion.",
            messages.SUCCESS,
        )


class PUIEnLigne(admin.TabularInline):
    model = PUI
    extra = 0
    fields = ("nom", "email", "telephone")


@admin.register(Etablissement)
class EtablissementAdmin(admin.ModelAdmin):
    list_display = ("nom", "finess", "ville", "territoire")
    list_filter = ("territoire",)
    search_fields = ("nom", "finess", "ville")
    inlines = [PUIEnLigne]


@admin.register(PUI)
class PUIAdmin(admin.ModelAdmin):
    list_display = ("nom", "etablissement", "email", "telephone")
    list_select_related = ("etablissement",)
    search_fields = ("nom", "etablissement__nom", "etablissement__finess")
    autocomplete_fields = ("etablissement",)


class EtatEnvoiFiltre(admin.SimpleListFilter):
    title = "état de l'envoi"
    parameter_name = "etat"

    def lookups(self, request, model_admin):
        return [("envoye", "Envoyé"), ("en_attente", "En attente"), ("en_echec", "En échec (au moins une erreur)")]

    def queryset(self, request, queryset):
        if self.value() == "envoye":
            return queryset.filter(envoye_le__isnull=False)
        if self.value() == "en_attente":
            return queryset.filter(envoye_le__isnull=True, tentatives=0)
        if self.value() == "en_echec":
            return queryset.filter(envoye_le__isnull=True, tentatives__gt=0)
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The email outbox, read-only: failed sends and their last error are visible, and can be retried."""

    list_display = ("cree_le", "destinataire", "sujet", "etat", "tentatives", "erreur")
    list_filter = (EtatEnvoiFiltre, "cree_le")
    search_fields = ("destinataire", "sujet", "cle")
    date_hierarchy = "cree_le"
    readonly_fields = (
        "destinataire",
        "sujet",
        "corps",
        "cree_le",
        "envoye_le",
        "tentatives",
        "derniere_erreur",
        "cle",
    )
    fields = readonly_fields
    actions = ["relancer_envoi"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="état")
    def etat(self, obj) -> str:
        if obj.envoye_le:
            return "Envoyé"
        return "En échec" if obj.tentatives else "En attente"

    @admin.display(description="dernière erreur")
    def erreur(self, obj) -> str:
        return Truncator(obj.derniere_erreur).chars(80)

    @admin.action(description="Relancer l'envoi des courriels non envoyés")
    def relancer_envoi(self, request, queryset):
        nombre = services.notifications_relancer_envoi(notifications=queryset)
        self.message_user(request, f"{nombre} courriel(s) remis dans la file d'envoi.", messages.SUCCESS)


@admin.register(EvenementCompte)
class EvenementCompteAdmin(admin.ModelAdmin):
    """The account journal, searchable and read-only (the database refuses changes anyway)."""

    list_display = ("cree_le", "utilisateur", "type", "auteur", "adresse_ip")
    list_filter = ("type", "cree_le")
    list_select_related = ("utilisateur", "auteur")
    search_fields = ("utilisateur__email", "utilisateur__nom", "auteur__email", "adresse_ip")
    date_hierarchy = "cree_le"
    readonly_fields = ("cree_le", "utilisateur", "auteur", "type", "adresse_ip", "details")
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
