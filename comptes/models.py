from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from .enums import OperationAudit, Role, Territoire, TypeEvenementCompte
from .validators import valider_finess, valider_rpps


class Etablissement(models.Model):
    """A health establishment, identified by its FINESS number, in a territory of care (R9)."""

    finess = models.CharField("numéro FINESS", max_length=9, unique=True, validators=[valider_finess])
    nom = models.CharField("raison sociale", max_length=200)
    ville = models.CharField(max_length=120, blank=True)
    territoire = models.CharField(max_length=32, choices=Territoire.choices, default=Territoire.METROPOLE)

    class Meta:
        verbose_name = "établissement"
        ordering = ["nom"]

    def __str__(self) -> str:
        return f"{self.nom} ({self.finess})"

    def save(self, *args, **kwargs):
        self.finess = self.finess.upper()
        super().save(*args, **kwargs)


class PUI(models.Model):
    """Pharmacie à usage intérieur of an establishment: it receives and sends the AAC requests (R10, R14)."""

    etablissement = models.ForeignKey(Etablissement, on_delete=models.PROTECT, related_name="puis")
    nom = models.CharField(max_length=200)
    email = models.EmailField("adresse de contact", blank=True)
    telephone = models.CharField("téléphone", max_length=30, blank=True)

    class Meta:
        verbose_name = "PUI"
        verbose_name_plural = "PUI"
        ordering = ["etablissement__nom", "nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["etablissement", "nom"],
                name="pui_nom_unique_par_etablissement",
                violation_error_message="Cet établissement a déjà une PUI de ce nom.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.nom} — {self.etablissement.nom}"


class UtilisateurManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("L'adresse électronique est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, role=Role.ADMINISTRATEUR)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class Utilisateur(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email address and holds exactly one role."""

    email = models.EmailField("adresse électronique", unique=True)
    prenom = models.CharField("prénom", max_length=100, blank=True)
    nom = models.CharField(max_length=100, blank=True)
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    telephone = models.CharField("téléphone", max_length=30, blank=True)
    fonction = models.CharField("fonction", max_length=120, blank=True, help_text="Par exemple : PU-PH, hématologie")
    rpps = models.CharField(
        "numéro RPPS", max_length=11, null=True, blank=True, unique=True, validators=[valider_rpps]
    )
    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.PROTECT, null=True, blank=True, related_name="utilisateurs"
    )
    pui = models.ForeignKey(PUI, on_delete=models.PROTECT, null=True, blank=True, related_name="pharmaciens")
    laboratoire = models.ForeignKey(
        "referentiel.Laboratoire", on_delete=models.PROTECT, null=True, blank=True, related_name="utilisateurs"
    )
    is_active = models.BooleanField("actif", default=True)
    is_staff = models.BooleanField("accès à l'administration technique", default=False)
    date_joined = models.DateTimeField("inscrit le", default=timezone.now)

    objects = UtilisateurManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "utilisateur"
        ordering = ["nom", "prenom"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role__in=[Role.PRESCRIPTEUR, Role.PHARMACIEN]) | Q(rpps__isnull=False),
                name="utilisateur_rpps_obligatoire_professionnel",
                violation_error_message="Un prescripteur ou un pharmacien doit avoir un numéro RPPS.",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.PRESCRIPTEUR) | Q(etablissement__isnull=False),
                name="utilisateur_prescripteur_etablissement",
                violation_error_message="Un prescripteur doit être rattaché à un établissement.",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.PHARMACIEN) | Q(pui__isnull=False),
                name="utilisateur_pharmacien_pui",
                violation_error_message="Un pharmacien doit être rattaché à une PUI.",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.LABORATOIRE) | Q(laboratoire__isnull=False),
                name="utilisateur_laboratoire_rattache",
                violation_error_message="Un utilisateur laboratoire doit être rattaché à son laboratoire.",
            ),
        ]

    def __str__(self) -> str:
        return self.nom_complet or self.email

    def clean(self):
        super().clean()
        # Logins are case-insensitive (get_by_natural_key): store one spelling so the unique index holds.
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        # A pharmacist belongs to the establishment of their PUI (R10): filled in, or refused when it differs.
        if self.pui_id is not None:
            if self.etablissement_id is None:
                self.etablissement_id = self.pui.etablissement_id
            elif self.pui.etablissement_id != self.etablissement_id:
                raise ValidationError(
                    {"pui": "Cette PUI appartient à un autre établissement que celui du compte."},
                    code="pui_etablissement",
                )

    @property
    def nom_complet(self) -> str:
        return f"{self.prenom} {self.nom}".strip()

    def get_full_name(self) -> str:
        return self.nom_complet

    def get_short_name(self) -> str:
        return self.prenom or self.email

    # Role predicates read by permissions and templates.
    @property
    def est_prescripteur(self) -> bool:
        return self.role == Role.PRESCRIPTEUR

    @property
    def est_pharmacien(self) -> bool:
        return self.role == Role.PHARMACIEN

    @property
    def est_evaluateur(self) -> bool:
        return self.role == Role.EVALUATEUR

    @property
    def est_laboratoire(self) -> bool:
        return self.role == Role.LABORATOIRE

    @property
    def est_administrateur(self) -> bool:
        return self.role == Role.ADMINISTRATEUR

    @property
    def est_ansm(self) -> bool:
        """ANSM staff: évaluateurs and administrators (second factor required, R-trust)."""
        return self.role in (Role.EVALUATEUR, Role.ADMINISTRATEUR)

    @property
    def second_facteur_requis(self) -> bool:
        """ANSM staff, and anyone who can open the technical administration whatever their role (a misconfigured
        flag must not open the back-office on a password alone)."""
        return self.est_ansm or self.is_staff or self.is_superuser


class Notification(models.Model):
    """An email in the outbox: written in the same transaction as the event, sent by a Celery worker.

    Nothing is lost when the broker or the mail server is down: the row stays unsent and the periodic sweep
    sends it again; `tentatives` and `derniere_erreur` make failures visible to the administrators.
    """

    destinataire = models.EmailField()
    sujet = models.CharField(max_length=250)
    corps = models.TextField()
    cree_le = models.DateTimeField(default=timezone.now, db_index=True)
    envoye_le = models.DateTimeField(null=True, blank=True)
    tentatives = models.PositiveSmallIntegerField(default=0)
    derniere_erreur = models.TextField(blank=True)
    cle = models.CharField(
        "clé d'unicité",
        max_length=200,
        null=True,
        blank=True,
        unique=True,
        help_text="Identifie un envoi unique (par exemple un rappel d'échéance) pour ne jamais l'envoyer deux fois.",
    )

    class Meta:
        ordering = ["-cree_le"]
        indexes = [
            models.Index(fields=["cree_le"], condition=Q(envoye_le__isnull=True), name="notification_a_envoyer"),
        ]

    def __str__(self) -> str:
        return f"{self.sujet} → {self.destinataire}"


class EvenementCompte(models.Model):
    """One security event of an account (second factor, password, personal-data export).

    Append-only: a PostgreSQL trigger (migration 0003) refuses UPDATE and DELETE, so neither the application nor
    an administrator can rewrite what happened. Accounts are deactivated, never deleted, hence PROTECT.
    """

    utilisateur = models.ForeignKey(
        Utilisateur, on_delete=models.PROTECT, related_name="evenements", verbose_name="compte concerné"
    )
    auteur = models.ForeignKey(
        Utilisateur,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evenements_auteur",
        help_text="La personne qui a agi, quand ce n'est pas le titulaire du compte (un administrateur).",
    )
    type = models.CharField(max_length=40, choices=TypeEvenementCompte.choices)
    cree_le = models.DateTimeField("date", default=timezone.now, db_index=True)
    adresse_ip = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    details = models.JSONField("détails", default=dict, blank=True)

    class Meta:
        verbose_name = "événement de compte"
        verbose_name_plural = "journal des comptes"
        ordering = ["-cree_le", "-pk"]
        indexes = [models.Index(fields=["utilisateur", "-cree_le"], name="evenementcompte_utilisateur")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} — {self.utilisateur} ({self.cree_le:%d/%m/%Y %H:%M})"


class JournalAudit(models.Model):
    """One write (INSERT, UPDATE, DELETE) on a request, a decision or a fiche, with the row before and after.

    Written only by PostgreSQL triggers (comptes.audit), never by the ORM: a write that bypasses Django (psql, a
    script) is recorded all the same. Append-only: a trigger refuses UPDATE and DELETE, and INSERT from anything
    but the audit triggers. The actor and the request id come from transaction-local settings that
    comptes.audit sets before each audited write (`app.utilisateur_id`, `app.request_id`).
    """

    le = models.DateTimeField("date", db_default=Now())
    table_nom = models.CharField("table", max_length=63)
    objet_id = models.CharField("identifiant de la ligne", max_length=64)
    operation = models.CharField("opération", max_length=6, choices=OperationAudit.choices)
    avant = models.JSONField("avant", null=True, blank=True)
    apres = models.JSONField("après", null=True, blank=True)
    colonnes = ArrayField(models.CharField(max_length=63), verbose_name="colonnes modifiées", default=list, blank=True)
    # No database foreign key: the trail outlives whatever it mentions, and the trigger must never fail on it.
    utilisateur = models.ForeignKey(
        Utilisateur,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # journal_utilisateur_id below starts with it
        null=True,
        blank=True,
        related_name="+",
        verbose_name="auteur",
    )
    requete_id = models.CharField("identifiant de requête", max_length=128, blank=True)
    role_base = models.CharField("rôle PostgreSQL", max_length=63, blank=True)
    demande_id = models.BigIntegerField("demande (identifiant)", null=True, blank=True)
    demande_reference = models.CharField("référence de la demande", max_length=20, blank=True)

    class Meta:
        verbose_name = "écriture du journal d'audit"
        verbose_name_plural = "journal d'audit"
        ordering = ["-id"]
        indexes = [
            # Append-only and written in time order: a block-range index answers date ranges for a fraction of the
            # cost of a B-tree at every write.
            BrinIndex(fields=["le"], name="journalaudit_date"),
            # The ids in ascending order although the journal is read newest first (PostgreSQL reads a B-tree
            # backwards as well): each new row then goes to the last page of its key, where PostgreSQL appends
            # without descending the tree and splits pages 90/10. Descending, every row went to the first page of
            # its key and split it in halves: an index twice the size, written more.
            models.Index(fields=["table_nom", "id"], name="journal_table_id"),
            models.Index(
                fields=["demande_reference", "id"],
                name="journal_demande_id",
                condition=~Q(demande_reference=""),
            ),
            # Writes without a known author (the BDPM import, system tasks) are not looked up by author.
            models.Index(
                fields=["utilisateur", "id"], name="journal_utilisateur_id", condition=Q(utilisateur__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_operation_display()} {self.table_nom} #{self.objet_id} ({self.le:%d/%m/%Y %H:%M})"


class PseudonymisationDemande(models.Model):
    """A request whose patient identity was erased at the end of the retention period (comptes.retention).

    The initials are gone from the request (the R43 format admits no token there); this row keeps the random,
    non-reversible token that stands for them, and when and under which period it was done.
    """

    demande = models.OneToOneField(
        "demandes.DemandeAAC", on_delete=models.PROTECT, related_name="pseudonymisation", verbose_name="demande"
    )
    jeton = models.CharField("jeton", max_length=24, unique=True)
    le = models.DateTimeField("pseudonymisée le", default=timezone.now)
    delai_jours = models.PositiveIntegerField("durée de conservation appliquée (jours)")

    class Meta:
        verbose_name = "pseudonymisation d'une demande"
        verbose_name_plural = "pseudonymisations des demandes"
        ordering = ["-le"]

    def __str__(self) -> str:
        return f"{self.jeton} ({self.le:%d/%m/%Y})"
