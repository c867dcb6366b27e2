"""API view: the workspace's audit log."""

from drf_spectacular.utils import extend_schema

from labelhub.access.permissions import Permission
from labelhub.core.api import WorkspaceScopedView
from labelhub.core.filters import AuditLogFilter
from labelhub.core.models import AuditLogEntry
from labelhub.core.serializers import AuditLogEntrySerializer


class AuditLogListView(WorkspaceScopedView):
    """Audit rows of the current workspace, newest first; filter by actor, verb, dates."""

    queryset = AuditLogEntry.objects.all()
    serializer_class = AuditLogEntrySerializer
    filterset_class = AuditLogFilter
    required_permissions = {"GET": Permission.VIEW_AUDIT_LOG}

    @extend_schema(operation_id="audit_log_list", responses=AuditLogEntrySerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AuditLogEntrySerializer(page, many=True).data)
