"""Users (signed in by e-mail) and workspace invitations."""

import hashlib

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from labelhub.core.models import OpaqueIdModel
from labelhub.workspaces.models import Role


class UserManager(BaseUserManager):
    """Create users keyed by a normalised (lower-case) e-mail."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        """Create a user with a hashed password (unusable when none is given)."""
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str):
        """Look users up case-insensitively: e-mails are stored normalised."""
        return self.get(email=normalize_email(username or ""))

    def create_superuser(self, email: str, password: str | None = None, **extra):
        """Create a Django superuser (operators only; the console never needs one)."""
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


def normalize_email(email: str) -> str:
    """Return the canonical form used for lookups: trimmed and lower-cased."""
    return email.strip().lower()


def axes_username(request, credentials) -> str | None:
    """The identity django-axes counts failures against: the e-mail as sign-in looks it up.

    Without this, ``BRUTE@x`` and ``brute@x`` were separate counters (and a lock on one
    did not stop the other), although both sign in to the same account.
    """
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = getattr(request, "POST", {}).get("username")
    return normalize_email(raw) if isinstance(raw, str) else None


class User(OpaqueIdModel, AbstractBaseUser, PermissionsMixin):
    """A person who signs in with e-mail and password."""

    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        """Name if set, otherwise the e-mail."""
        return self.name or self.email


def hash_token(token: str) -> str:
    """Hash an invitation token; the database never holds the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(OpaqueIdModel):
    """An expiring, single-use invitation into a workspace with a role."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=32, choices=Role.choices)
    custom_role = models.ForeignKey(
        "access.CustomRole", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "email"],
                condition=Q(status="pending"),
                name="invitation_one_pending_per_email",
            ),
            models.CheckConstraint(
                condition=(Q(role="custom") & Q(custom_role__isnull=False))
                | (~Q(role="custom") & Q(custom_role__isnull=True)),
                name="invitation_role_pair",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "-created_at"], name="inv_ws_status")
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.email

    @property
    def is_expired(self) -> bool:
        """True when the token's time is up (whatever the stored status says)."""
        return timezone.now() >= self.expires_at

    @property
    def effective_status(self) -> str:
        """Status as a reader should see it: pending invitations past expiry read as expired."""
        if self.status == self.Status.PENDING and self.is_expired:
            return self.Status.EXPIRED
        return self.status


API_KEY_PREFIX = "lh_"
#: random hex characters after ``lh_`` in a key's public prefix
API_KEY_PREFIX_CHARS = 10


class ApiKey(OpaqueIdModel):
    """A member's key for one workspace; the secret is shown once and stored hashed.

    The key acts as its owner, restricted to ``permissions`` when given (never more than
    the owner holds at the time of each request: a shrinking role shrinks the key, and the
    key dies when the owner leaves the workspace).
    """

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="api_keys"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    #: public part, shown in lists and used for the lookup (``lh_`` + 10 characters)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    #: codenames the key is restricted to; null means "whatever the owner may do"
    permissions = models.JSONField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    #: requests per minute this key may make; null means the installation's default
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "owner", "-created_at"], name="apikey_ws_owner")
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def status(self) -> str:
        """active, revoked or expired."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and timezone.now() >= self.expires_at:
            return "expired"
        return "active"
