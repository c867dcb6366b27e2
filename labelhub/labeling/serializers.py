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


# --- the labeling loop ----------------------------------------------------------------------


class WorkflowStepSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    reviewer_users = serializers.ListField(child=serializers.CharField())
    reviewer_groups = serializers.ListField(child=serializers.CharField())
    filters = serializers.ListField(child=serializers.DictField())
    match = serializers.CharField()
    assignment = serializers.CharField()
    max_rework_attempts = serializers.IntegerField(allow_null=True)
    user_limits = serializers.DictField(child=serializers.IntegerField())
    group_limits = serializers.DictField(child=serializers.IntegerField())
    max_labels_per_row = serializers.IntegerField()
    task_count = serializers.IntegerField(default=0)


class StepCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=80)
    position = serializers.IntegerField(required=False)


class StepUpdateSerializer(StrictSerializer):
    """Every field is optional; which apply depends on the step's kind."""

    name = serializers.CharField(max_length=80, required=False)
    position = serializers.IntegerField(required=False)
    reviewer_users = serializers.ListField(child=serializers.CharField(), required=False)
    reviewer_groups = serializers.ListField(child=serializers.CharField(), required=False)
    filters = serializers.ListField(child=serializers.DictField(), required=False)
    match = serializers.ChoiceField(choices=["all", "any"], required=False)
    assignment = serializers.ChoiceField(choices=["any", "creator"], required=False)
    max_rework_attempts = serializers.IntegerField(required=False, allow_null=True)
    user_limits = serializers.DictField(child=serializers.IntegerField(), required=False)
    group_limits = serializers.DictField(child=serializers.IntegerField(), required=False)
    max_labels_per_row = serializers.IntegerField(required=False)


class QueueNextSerializer(StrictSerializer):
    mode = serializers.ChoiceField(choices=["label", "review", "rework"], default="label")
    step = serializers.CharField(required=False, allow_blank=True, max_length=64)


class HeartbeatSerializer(StrictSerializer):
    visible = serializers.BooleanField(default=True)


class DraftSerializer(StrictSerializer):
    draft = serializers.JSONField()


class SubmitSerializer(StrictSerializer):
    annotations = serializers.JSONField(
        help_text="A list of annotations in the import's NDJSON shape, without dataRow."
    )


class SkipSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ReviewSerializer(StrictSerializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    score = serializers.IntegerField(required=False, allow_null=True)
    scores = serializers.DictField(child=serializers.IntegerField(), required=False)
    annotations = serializers.JSONField(
        required=False,
        help_text="The reviewer's correction of a label (needs the rework permission): "
        "the submit shape, replacing the label's annotations before the decision.",
    )
    label = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="The id of the label corrected (needed when the row has several labels).",
    )


class InputEventSerializer(StrictSerializer):
    kind = serializers.CharField(max_length=32, help_text="paste or rapid_entry")
    feature = serializers.CharField(
        max_length=64, help_text="The schemaId of a free-text classification of the ontology."
    )
    detail = serializers.JSONField(
        required=False, help_text="At most 10 keys, each a number or a text (≤ 200 characters)."
    )


class InputEventResponseSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField(help_text="paste or rapid_entry")
    feature = serializers.CharField()
    detail = serializers.JSONField()
    created_at = serializers.DateTimeField()


class RowsActionSerializer(StrictSerializer):
    data_row_ids = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=10_000
    )


class MoveActionSerializer(RowsActionSerializer):
    step = serializers.CharField(max_length=64)


class ReworkActionSerializer(RowsActionSerializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class RequeueActionSerializer(RowsActionSerializer):
    keep_as_template = serializers.BooleanField(default=False)


class HideActionSerializer(RowsActionSerializer):
    hidden = serializers.BooleanField()


class AssignActionSerializer(RowsActionSerializer):
    user = serializers.CharField(max_length=64, allow_null=True)


class BenchmarkActionSerializer(RowsActionSerializer):
    benchmark = serializers.BooleanField(default=True)
