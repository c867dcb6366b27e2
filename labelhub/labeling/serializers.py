"""API shapes of batches and of the data rows tab (tasks)."""

from __future__ import annotations

from rest_framework import serializers

from labelhub.core.serializers import StrictSerializer
from labelhub.labeling.models import Batch, Task


class BatchSerializer(serializers.ModelSerializer):
    row_count = serializers.IntegerField(read_only=True, default=None)
    queued_count = serializers.IntegerField(read_only=True, default=None)
    done_count = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = Batch
        fields = [
            "id",
            "name",
            "priority",
            "consensus_coverage",
            "consensus_labels",
            "row_count",
            "queued_count",
            "done_count",
            "created_at",
        ]


class BatchCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    data_row_ids = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=100_000
    )
    global_keys = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=100_000
    )
    dataset = serializers.DictField(
        required=False,
        help_text='{"dataset": id, "sample": "all"|"random"|"first"|"last", "count": N}',
    )
    priority = serializers.IntegerField(required=False)
    consensus_coverage = serializers.IntegerField(required=False)
    consensus_labels = serializers.IntegerField(required=False)


class BatchUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    priority = serializers.IntegerField(required=False)


class TaskRowSerializer(serializers.ModelSerializer):
    data_row = serializers.SerializerMethodField()
    batch = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = ["data_row", "batch", "status", "priority", "created_at"]

    def get_data_row(self, obj: Task) -> dict:
        row = obj.data_row
        return {
            "id": str(row.pk),
            "global_key": row.global_key,
            "external_id": row.external_id,
            "dataset": {"id": str(row.dataset_id), "name": row.dataset.name},
            "metadata": row.metadata,
        }

    def get_batch(self, obj: Task) -> dict:
        return {"id": str(obj.batch_id), "name": obj.batch.name}


class PriorityActionSerializer(StrictSerializer):
    data_row_ids = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=100_000
    )
    priority = serializers.IntegerField()
