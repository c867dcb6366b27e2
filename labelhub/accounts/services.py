"""Every write to users: accounts and their profile."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from labelhub.accounts.models import User, normalize_email
from labelhub.core.errors import Conflict, ValidationFailed
from labelhub.core.validation import clean_text


def clean_email(email: Any, field: str = "email") -> str:
    """Validate and normalise an e-mail address."""
    if not isinstance(email, str) or not email.strip():
        raise ValidationFailed("This field is required.", field=field)
    email = normalize_email(email)
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationFailed("Enter a valid e-mail address.", field=field) from exc
    return email


def clean_password(password: Any, user: User | None = None, field: str = "password") -> str:
    """Run Django's password validators; raise field errors."""
    if not isinstance(password, str) or not password:
        raise ValidationFailed("This field is required.", field=field)
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.messages[0], details={field: exc.messages}) from exc
    return password


def user_create(*, email: str, password: str, name: str = "") -> User:
    """Create an account after validating e-mail and password."""
    email = clean_email(email)
    if User.objects.filter(email=email).exists():
        raise Conflict("An account with this e-mail already exists.", details={"email": ["taken"]})
    clean_password(password, User(email=email, name=name))
    return User.objects.create_user(email=email, password=password, name=(name or "").strip()[:150])


def user_update_profile(*, user: User, name: Any) -> User:
    """Change the user's display name (may be blank)."""
    if name is None:
        raise ValidationFailed("Enter a name.", field="name")
    user.name = clean_text(name, field="name", max_length=150, required=False)
    user.save(update_fields=["name"])
    return user
