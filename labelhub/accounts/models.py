"""Users, signed in by e-mail (invitations and API keys belong to the access app)."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models

from labelhub.core.models import OpaqueIdModel


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
