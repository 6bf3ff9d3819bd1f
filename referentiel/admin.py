"""Technical back-office of the référentiel for administrators.

Thin: forms check through the services' validators so that a broken rule shows as a form error with its French
message and rule number, and saves go through the services, so each change is historised and re-indexed like the
ANSM's screens do. The history itself is read-only.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse

from . import services
from .documents import verifier_fichier
from .exceptions import ReferentielError
from .models import (
    PUT,
    AccesDerogatoire,
    Composition,
    ConditionPrescription,
    CritereOctroi,
    Document,
    HistoriqueFiche,
    Indication,
    Laboratoire,
    ProlongationEngagementAAP,
    RapportPeriodique,
    Specialite,
    Substance,
)


def _erreur_formulaire(exc: ReferentielError, champs) -> ValidationError:
    if exc.champ and exc.champ in champs:
        return ValidationError({exc.champ: exc.texte})
    return ValidationError(exc.texte)


def _formset_traite(formset) -> None:
    """The services saved the rows; the admin's change message still reads what formset.save() would set."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


def _candidat(modele, instance, donnees: dict, champs):
    """An unsaved copy of instance with the submitted values, for a service validator to read."""
    candidat = modele(pk=instance.pk)
    for champ in modele._meta.concrete_fields:
        if not champ.primary_key:
            setattr(candidat, champ.attname, getattr(instance, champ.attname))
    for champ in champs:
        if champ in donnees:
            setattr(candidat, champ, donnees[champ])
    return candidat


class _ErreursServices:
    """Run a service in save_model/save_formset; a rule broken there (a race the form could not see) is shown
    as an error and the whole admin request is rolled back."""

    def _appeler(self, request, fonction, **kwargs):
        try:
            return fonction(par=request.user, **kwargs)
        except ReferentielError as exc:
            messages.error(request, exc.texte)
            transaction.set_rollback(True)
            return None

    def log_addition(self, request, obj, message):
        if obj.pk is not None:
            return super().log_addition(request, obj, message)
        return None

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        return super().response_add(request, obj, post_url_continue)


# --- Catalogue ------------------------------------------------------------------------------------------------


@admin.register(Laboratoire)
class LaboratoireAdmin(admin.ModelAdmin):
    list_display = ("nom", "est_titulaire", "est_exploitant", "email", "telephone")
    list_filter = ("est_titulaire", "est_exploitant")
    search_fields = ("nom",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "nom" in form.changed_data:
            # Laboratories are part of the search document of their spécialités (R3).
            ids = Specialite.objects.filter(Q(titulaire=obj) | Q(exploitant=obj)).values_list("pk", flat=True)
            services.specialites_indexer(ids=list(ids))


@admin.register(Substance)
class SubstanceAdmin(admin.ModelAdmin):
    list_display = ("dci", "code_bdpm")
    search_fields = ("dci", "code_bdpm")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "dci" in form.changed_data:
            ids = Composition.objects.filter(substance=obj).values_list("specialite_id", flat=True).distinct()
            services.specialites_indexer(ids=list(ids))


# --- Spécialités --------------------------------------------------------------------------------------------------


class SpecialiteForm(forms.ModelForm):
    class Meta:
        model = Specialite
        fields = services.CHAMPS_SPECIALITE

    def clean(self):
        donnees = super().clean()
        if not self.errors:
            try:
                services.specialite_valider(specialite=_candidat(Specialite, self.instance, donnees, self.fields))
            except ReferentielError as exc:
                raise _erreur_formulaire(exc, self.fields) from exc
        return donnees


class CompositionInline(admin.TabularInline):
    model = Composition
    extra = 0
    autocomplete_fields = ("substance",)
    fields = ("substance", "dosage", "reference_dosage")


class AccesInline(admin.TabularInline):
    model = AccesDerogatoire
    fk_name = "specialite"
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = ("type_acces", "etat", "date_debut", "date_fin", "date_limite_depot_aap", "date_cessation")
    readonly_fields = fields


class DocumentInline(admin.TabularInline):
    model = Document
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = ("type_document", "titre", "date_document", "version", "public", "type_mime", "taille")
    readonly_fields = fields


class ConditionPrescriptionInline(admin.TabularInline):
    model = ConditionPrescription
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("texte",)
    readonly_fields = fields
    verbose_name_plural = "conditions de prescription et de délivrance (BDPM)"


class HistoriqueInline(admin.TabularInline):
    model = HistoriqueFiche
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("le", "auteur", "action", "objet", "avant", "apres")
    readonly_fields = fields
    ordering = ("-le",)


@admin.register(Specialite)
class SpecialiteAdmin(_ErreursServices, admin.ModelAdmin):
    form = SpecialiteForm
    list_display = ("nom", "cis", "titulaire", "statut_amm", "aire_therapeutique", "mitm", "demonstration")
    list_filter = ("statut_amm", "aire_therapeutique", "mitm", "publiee", "demonstration", "acces__type_acces")
    list_select_related = ("titulaire",)
    search_fields = ("nom", "cis", "compositions__substance__dci", "titulaire__nom", "exploitant__nom")
    autocomplete_fields = ("titulaire", "exploitant")
    readonly_fields = ("slug", "statut_administratif_bdpm", "etat_commercialisation_bdpm", "cree_le", "mis_a_jour_le")
    inlines = (CompositionInline, AccesInline, DocumentInline, ConditionPrescriptionInline, HistoriqueInline)
    fieldsets = (
        (None, {"fields": ("nom", "slug", "cis", "forme_pharmaceutique", "voies_administration", "code_atc")}),
        ("Laboratoires (R29)", {"fields": ("titulaire", "exploitant")}),
        ("Référentiel", {"fields": ("aire_therapeutique", "mitm", "publiee", "demonstration")}),
        (
            "AMM en France (R5, R24)",
            {
                "fields": (
                    "statut_amm",
                    "date_amm",
                    "date_arret_commercialisation",
                    "statut_administratif_bdpm",
                    "etat_commercialisation_bdpm",
                )
            },
        ),
        ("CPD (R28)", {"fields": ("reserve_hospitalier", "restriction_prescripteurs", "retrocession")}),
        ("Suivi", {"fields": ("cree_le", "mis_a_jour_le")}),
    )

    def has_delete_permission(self, request, obj=None):
        # A fiche ends through its statuses; deleting it would also delete its history.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            champs = {c: form.cleaned_data[c] for c in form.changed_data if c in services.CHAMPS_SPECIALITE}
            self._appeler(request, services.specialite_modifier, specialite=obj, **champs)
            return
        champs = {c: form.cleaned_data[c] for c in services.CHAMPS_SPECIALITE if c in form.cleaned_data}
        nom = champs.pop("nom")
        creee = self._appeler(request, services.specialite_creer, nom=nom, **champs)
        if creee is not None:
            obj.pk, obj.slug, obj.cree_le, obj.mis_a_jour_le = creee.pk, creee.slug, creee.cree_le, creee.mis_a_jour_le
            obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        _formset_traite(formset)
        if formset.model is Composition:
            if formset.has_changed() and form.instance.pk:
                lignes = [
                    {
                        "substance": f.cleaned_data["substance"],
                        "dosage": f.cleaned_data.get("dosage", ""),
                        "reference_dosage": f.cleaned_data.get("reference_dosage", ""),
                    }
                    for f in formset.forms
                    if f.cleaned_data and not f.cleaned_data.get("DELETE")
                ]
                self._appeler(
                    request, services.specialite_definir_composition, specialite=form.instance, compositions=lignes
                )
            return
        # The other inlines are read-only.


# --- Statuses, indications, PUT ---------------------------------------------------------------------------------


class AccesForm(forms.ModelForm):
    class Meta:
        model = AccesDerogatoire
        fields = ("specialite", "type_acces", *services.CHAMPS_ACCES)

    def clean(self):
        donnees = super().clean()
        if self.errors:
            return donnees
        specialite = donnees.get("specialite") or getattr(self.instance, "specialite", None)
        if specialite is None:
            return donnees
        candidat = _candidat(AccesDerogatoire, self.instance, donnees, self.fields)
        candidat.specialite = specialite
        try:
            services.acces_valider(acces=candidat)
        except ReferentielError as exc:
            raise _erreur_formulaire(exc, self.fields) from exc
        return donnees


class IndicationInline(admin.TabularInline):
    model = Indication
    extra = 0
    show_change_link = True
    fields = ("libelle", "patients_eligibles", "maladie_rare", "restriction_aap", "ordre", "publiee_le")


class PUTForm(forms.ModelForm):
    class Meta:
        model = PUT
        fields = services.CHAMPS_PUT

    def clean(self):
        donnees = super().clean()
        if not self.errors and getattr(self.instance, "acces_id", None):
            try:
                services.put_valider(put=_candidat(PUT, self.instance, donnees, self.fields))
            except ReferentielError as exc:
                raise _erreur_formulaire(exc, self.fields) from exc
        return donnees


class PUTInline(admin.TabularInline):
    model = PUT
    form = PUTForm
    extra = 0
    can_delete = False
    fields = services.CHAMPS_PUT


class ProlongationInline(admin.TabularInline):
    model = ProlongationEngagementAAP
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("duree_mois", "motif", "accordee_le", "accordee_par")
    readonly_fields = fields


class RapportInline(admin.TabularInline):
    model = RapportPeriodique
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = ("periode_debut", "periode_fin", "date_echeance", "statut", "resume_publie_le")
    readonly_fields = fields


@admin.register(AccesDerogatoire)
class AccesDerogatoireAdmin(_ErreursServices, admin.ModelAdmin):
    form = AccesForm
    list_display = ("specialite", "type_acces", "etat", "phase_aap", "date_debut", "date_fin", "date_limite_depot_aap")
    list_filter = ("type_acces", "etat", "phase_aap", "riph_commerciale", "specialite__demonstration")
    list_select_related = ("specialite",)
    search_fields = ("specialite__nom", "specialite__cis", "indications__libelle")
    autocomplete_fields = ("specialite", "precedent")
    readonly_fields = ("date_limite_depot_aap", "cree_le", "mis_a_jour_le")
    inlines = (IndicationInline, PUTInline, ProlongationInline, RapportInline)
    fieldsets = (
        (None, {"fields": ("specialite", "type_acces", "etat", "precedent", "conditions_utilisation")}),
        ("Dates", {"fields": ("date_debut", "date_fin", "date_prochain_renouvellement")}),
        (
            "AAC (R7, R23, R24)",
            {
                "fields": (
                    "date_cessation",
                    "riph_commerciale",
                    "engagement_aap",
                    "date_premiere_aac",
                    "date_limite_depot_aap",
                )
            },
        ),
        ("AAP (R37)", {"fields": ("phase_aap", "date_decision_has")}),
        ("CPC (R38-R40)", {"fields": ("origine_signalement", "etape_cpc", "date_entree_vigueur_prevue")}),
        ("Suivi", {"fields": ("cree_le", "mis_a_jour_le")}),
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return (*self.readonly_fields, "specialite", "type_acces")
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        champs = {c: form.cleaned_data[c] for c in services.CHAMPS_ACCES if c in form.cleaned_data}
        if change:
            champs = {c: v for c, v in champs.items() if c in form.changed_data}
            self._appeler(request, services.acces_modifier, acces=obj, **champs)
            return
        cree = self._appeler(
            request,
            services.acces_creer,
            specialite=form.cleaned_data["specialite"],
            type_acces=form.cleaned_data["type_acces"],
            **champs,
        )
        if cree is not None:
            obj.pk = cree.pk
            obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        _formset_traite(formset)
        if not form.instance.pk:
            return
        for sous_formulaire in formset.forms:
            if not sous_formulaire.has_changed() and not sous_formulaire.cleaned_data.get("DELETE"):
                continue
            donnees, instance = sous_formulaire.cleaned_data, sous_formulaire.instance
            if formset.model is Indication:
                champs = {c: donnees[c] for c in services.CHAMPS_INDICATION if c in donnees}
                if donnees.get("DELETE") and instance.pk:
                    self._appeler(request, services.indication_supprimer, indication=instance)
                elif instance.pk:
                    champs = {c: v for c, v in champs.items() if c in sous_formulaire.changed_data}
                    self._appeler(request, services.indication_modifier, indication=instance, **champs)
                elif not donnees.get("DELETE"):
                    libelle = champs.pop("libelle")
                    self._appeler(request, services.indication_creer, acces=form.instance, libelle=libelle, **champs)
            elif formset.model is PUT:
                champs = {c: donnees[c] for c in services.CHAMPS_PUT if c in donnees}
                if instance.pk:
                    champs = {c: v for c, v in champs.items() if c in sous_formulaire.changed_data}
                    self._appeler(request, services.put_modifier, put=instance, **champs)
                else:
                    type_put = champs.pop("type_put")
                    self._appeler(request, services.put_creer, acces=form.instance, type_put=type_put, **champs)


class CritereInline(admin.TabularInline):
    model = CritereOctroi
    extra = 1
    fields = ("ordre", "libelle")


@admin.register(Indication)
class IndicationAdmin(_ErreursServices, admin.ModelAdmin):
    list_display = ("libelle", "acces", "maladie_rare", "publiee_le")
    list_filter = ("maladie_rare", "acces__type_acces")
    list_select_related = ("acces__specialite",)
    search_fields = ("libelle", "acces__specialite__nom", "criteres__libelle")
    autocomplete_fields = ("acces",)
    fields = ("acces", *services.CHAMPS_INDICATION)
    inlines = (CritereInline,)

    def get_readonly_fields(self, request, obj=None):
        return ("acces",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        champs = {c: form.cleaned_data[c] for c in services.CHAMPS_INDICATION if c in form.cleaned_data}
        if change:
            champs = {c: v for c, v in champs.items() if c in form.changed_data}
            self._appeler(request, services.indication_modifier, indication=obj, **champs)
            return
        libelle = champs.pop("libelle")
        creee = self._appeler(
            request, services.indication_creer, acces=form.cleaned_data["acces"], libelle=libelle, **champs
        )
        if creee is not None:
            obj.pk = creee.pk
            obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        # The critères d'octroi are one ordered list on the indication (R11): replaced in one service call.
        _formset_traite(formset)
        if formset.model is not CritereOctroi or not form.instance.pk or not formset.has_changed():
            return
        lignes = sorted(
            (
                (f.cleaned_data.get("ordre") or 0, f.cleaned_data["libelle"])
                for f in formset.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("libelle")
            ),
            key=lambda ligne: ligne[0],
        )
        self._appeler(
            request, services.indication_modifier, indication=form.instance, criteres=[texte for _, texte in lignes]
        )


@admin.register(PUT)
class PUTAdmin(_ErreursServices, admin.ModelAdmin):
    form = PUTForm
    list_display = ("acces", "type_put", "version", "recueil_nominatif", "periodicite_rapports_mois", "crpv")
    list_filter = ("type_put", "recueil_nominatif", "est_proposition")
    list_select_related = ("acces__specialite",)
    search_fields = ("acces__specialite__nom", "crpv")

    def has_add_permission(self, request):
        return False  # added on the status's page, where the type of PUT follows the type of access

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        champs = {c: form.cleaned_data[c] for c in form.changed_data if c in services.CHAMPS_PUT}
        self._appeler(request, services.put_modifier, put=obj, **champs)


class ProlongationForm(forms.ModelForm):
    class Meta:
        model = ProlongationEngagementAAP
        fields = ("acces", "duree_mois", "motif")


@admin.register(ProlongationEngagementAAP)
class ProlongationAdmin(_ErreursServices, admin.ModelAdmin):
    form = ProlongationForm
    list_display = ("acces", "duree_mois", "accordee_le", "accordee_par")
    list_select_related = ("acces__specialite", "accordee_par")
    autocomplete_fields = ("acces",)
    search_fields = ("acces__specialite__nom",)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        prolongation = self._appeler(
            request,
            services.acces_prolonger_delai_aap,
            acces=form.cleaned_data["acces"],
            duree_mois=form.cleaned_data["duree_mois"],
            motif=form.cleaned_data["motif"],
        )
        if prolongation is not None:
            obj.pk = prolongation.pk
            obj._state.adding = False


# --- Documents and reports --------------------------------------------------------------------------------------


class DocumentForm(forms.ModelForm):
    class Meta:
        model = Document
        fields = ("specialite", "acces", "type_document", "titre", "fichier", "date_document", "version", "public")

    def clean_fichier(self):
        fichier = self.cleaned_data.get("fichier")
        if fichier and "fichier" in self.changed_data:
            try:
                verifier_fichier(fichier)
            except ReferentielError as exc:
                raise ValidationError(exc.texte) from exc
        return fichier


@admin.register(Document)
class DocumentAdmin(_ErreursServices, admin.ModelAdmin):
    form = DocumentForm
    list_display = ("titre", "specialite", "type_document", "date_document", "version", "public", "taille")
    list_filter = ("type_document", "public", "type_mime")
    list_select_related = ("specialite",)
    search_fields = ("titre", "specialite__nom")
    autocomplete_fields = ("specialite", "acces")

    def get_readonly_fields(self, request, obj=None):
        # The file of a published document is replaced by a new document, not overwritten.
        return ("specialite", "fichier", "type_mime", "taille") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            champs = {c: form.cleaned_data[c] for c in form.changed_data if c in services.CHAMPS_DOCUMENT}
            self._appeler(request, services.document_modifier, document=obj, **champs)
            return
        donnees = form.cleaned_data
        document = self._appeler(
            request,
            services.document_ajouter,
            specialite=donnees["specialite"],
            acces=donnees.get("acces"),
            type_document=donnees["type_document"],
            titre=donnees["titre"],
            fichier=donnees["fichier"],
            date_document=donnees["date_document"],
            version=donnees.get("version", ""),
            public=donnees.get("public", True),
        )
        if document is not None:
            obj.pk, obj.fichier = document.pk, document.fichier
            obj._state.adding = False

    def delete_model(self, request, obj):
        self._appeler(request, services.document_supprimer, document=obj)

    def delete_queryset(self, request, queryset):
        for document in queryset:
            self._appeler(request, services.document_supprimer, document=document)


@admin.register(RapportPeriodique)
class RapportPeriodiqueAdmin(_ErreursServices, admin.ModelAdmin):
    list_display = ("acces", "periode_debut", "periode_fin", "date_echeance", "statut", "resume_publie_le")
    list_filter = ("statut",)
    list_select_related = ("acces__specialite",)
    search_fields = ("acces__specialite__nom",)
    autocomplete_fields = ("acces",)
    actions = ("marquer_recu", "passer_en_evaluation", "publier_resume")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("acces", "periode_debut", "periode_fin", "date_echeance")
        return ("acces", "periode_debut", "periode_fin", "date_echeance", "statut", "date_reception", "resume")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        lecture = ["acces", "periode_debut", "periode_fin", "date_echeance", "statut", "date_reception"]
        if obj.statut == "valide":
            lecture.append("resume")
        return lecture

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        donnees = form.cleaned_data
        if not change:
            rapport = self._appeler(
                request,
                services.rapport_creer,
                acces=donnees["acces"],
                periode_debut=donnees["periode_debut"],
                periode_fin=donnees["periode_fin"],
                date_echeance=donnees["date_echeance"],
            )
            if rapport is not None:
                obj.pk = rapport.pk
                obj._state.adding = False
        elif "resume" in form.changed_data:
            # Writing the résumé of a received report is validating it (R35).
            self._appeler(request, services.rapport_valider, rapport=obj, resume=donnees["resume"])

    @admin.action(description="Enregistrer la réception du rapport (R34)")
    def marquer_recu(self, request, queryset):
        for rapport in queryset:
            self._appeler(request, services.rapport_recevoir, rapport=rapport)

    @admin.action(description="Passer en évaluation (R35)")
    def passer_en_evaluation(self, request, queryset):
        for rapport in queryset:
            self._appeler(request, services.rapport_evaluer, rapport=rapport)

    @admin.action(description="Publier le résumé validé (R35)")
    def publier_resume(self, request, queryset):
        for rapport in queryset:
            self._appeler(request, services.rapport_publier_resume, rapport=rapport)


@admin.register(HistoriqueFiche)
class HistoriqueFicheAdmin(admin.ModelAdmin):
    list_display = ("le", "specialite", "auteur", "action", "objet")
    list_filter = ("action",)
    list_select_related = ("specialite", "auteur")
    search_fields = ("specialite__nom", "objet", "auteur__email")
    date_hierarchy = "le"
    readonly_fields = ("specialite", "auteur", "le", "action", "objet", "avant", "apres")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
