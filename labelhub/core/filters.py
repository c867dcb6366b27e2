"""Filter sets for core lists (django-filter)."""

import django_filters

from labelhub.core.models import AuditLogEntry


class AuditLogFilter(django_filters.FilterSet):
    actor = django_filters.UUIDFilter(field_name="actor_id")
    verb = django_filters.CharFilter(field_name="verb")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditLogEntry
        fields = ["actor", "verb", "since", "until"]
