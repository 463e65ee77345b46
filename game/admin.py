from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from game.models import OperatorAction
from game.records.operations import validate_action


class OperatorActionForm(forms.ModelForm):
    class Meta:
        model = OperatorAction
        fields = ["match", "kind", "entity_ids", "x", "z", "player", "reason"]

    def clean(self):
        cleaned = super().clean()
        action = OperatorAction(**{k: v for k, v in cleaned.items() if k in self.Meta.fields})
        try:
            validate_action(action)
        except ValidationError as err:
            raise forms.ValidationError(err.messages) from None
        return cleaned


@admin.register(OperatorAction)
class OperatorActionAdmin(admin.ModelAdmin):
    """Staff corrections of running matches: move or remove cubes, kick a player."""

    form = OperatorActionForm
    list_display = [
        "created",
        "match",
        "kind",
        "entity_ids",
        "player",
        "requested_by_name",
        "applied",
        "result",
    ]
    list_filter = ["kind", "applied"]
    search_fields = ["match__name", "requested_by_name"]
    raw_id_fields = ["match", "player"]
    readonly_fields = ["requested_by_name", "applied", "result"]

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.applied is None  # an applied action is history

    def save_model(self, request, obj, form, change):
        obj.requested_by = request.user
        obj.requested_by_name = request.user.get_username()
        super().save_model(request, obj, form, change)
