from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from game.management.commands import verify_replays
from game.models import MatchRecord, OperatorAction
from game.records import matchfile
from game.records.operations import validate_action
from lobby.models import Match


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


class ImportForm(forms.Form):
    file = forms.FileField(help_text="a match file from Export (or manage.py exportmatch): .json or .json.gz")
    keep_id = forms.BooleanField(required=False, help_text="keep the match's id (it must be free here)")


@admin.register(MatchRecord)
class MatchRecordAdmin(admin.ModelAdmin):
    """Ended matches as the game keeps them: watch, verify, export one as a file, import one."""

    list_display = ["name", "status", "ended", "duration", "logged_ticks", "rules", "replay", "export"]
    list_filter = ["status"]
    search_fields = ["name", "participations__player__nickname"]
    actions = ["verify"]
    change_list_template = "admin/game/matchrecord/change_list.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(status__in=[Match.Status.FINISHED, Match.Status.ABANDONED])
            .annotate(logged=Max("log_chunks__last_tick"))
            .select_related("input_log")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # records go by the retention policy (manage.py prunerecords) only

    @admin.display(description="logged ticks", ordering="logged")
    def logged_ticks(self, obj):
        return obj.logged or "—"

    @admin.display(description="rules")
    def rules(self, obj):
        log = getattr(obj, "input_log", None)
        return log.rules_version if log is not None else ("1 (no header)" if obj.logged else "—")

    @admin.display(description="replay")
    def replay(self, obj):
        return format_html('<a href="{}">watch</a>', reverse("lobby:replay", args=[obj.pk]))

    @admin.display(description="file")
    def export(self, obj):
        url = reverse("admin:game_matchrecord_export", args=[obj.pk])
        return format_html('<a href="{}">export</a>', url)

    def get_urls(self):
        own = [
            path(
                "<uuid:match_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name="game_matchrecord_export",
            ),
            path("import/", self.admin_site.admin_view(self.import_view), name="game_matchrecord_import"),
        ]
        return own + super().get_urls()

    def export_view(self, request, match_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        match = get_object_or_404(Match, pk=match_id)
        try:
            raw = matchfile.dumps(matchfile.export_match(match))
        except matchfile.MatchFileError as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return redirect("admin:game_matchrecord_changelist")
        response = HttpResponse(raw, content_type="application/gzip")
        response["Content-Disposition"] = f'attachment; filename="match-{match.pk}.json.gz"'
        return response

    def import_view(self, request):
        if not request.user.has_perm("lobby.add_match"):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > matchfile.MAX_FILE_BYTES:
                    raise matchfile.MatchFileError("the file is too large")
                match = matchfile.import_match(matchfile.loads(upload.read()), form.cleaned_data["keep_id"])
            except matchfile.MatchFileError as exc:
                form.add_error("file", str(exc))
            else:
                ok, what = verify_replays.verify(match)
                level = messages.SUCCESS if ok else messages.WARNING
                self.message_user(
                    request, f"Imported {match.name}; replay {'ok' if ok else 'MISMATCH'}: {what}", level
                )
                return redirect("admin:game_matchrecord_changelist")
        context = {**self.admin_site.each_context(request), "form": form, "title": "Import a match file"}
        context["opts"] = self.model._meta
        return TemplateResponse(request, "admin/game/matchrecord/import.html", context)

    @admin.action(description="Verify the replay of the selected matches")
    def verify(self, request, queryset):
        for match in queryset:
            ok, what = verify_replays.verify(match)
            level = messages.SUCCESS if ok else messages.ERROR
            self.message_user(
                request, f"{match.name} ({match.pk}): {'ok' if ok else 'MISMATCH'}: {what}", level
            )
