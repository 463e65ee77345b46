"""Admin for match records; matches, seats and events are written by the game, so inlines only show them."""

from django.contrib import admin, messages
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from lobby import ticklag

from . import limits
from .models import Match, MatchEvent, Participation, Player


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


SEAT_FIELDS = ["color", "joined", "online", "kicked", "spawned", "deleted", "moves", "rejected"]


class ParticipationInline(ReadOnlyInline):
    model = Participation
    fields = ["player", *SEAT_FIELDS, "left"]


class LatestEventsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        # A long match has many thousands of events: the page shows the newest only.
        if not hasattr(self, "_latest"):
            self._latest = super().get_queryset().order_by("-tick", "-id")[: limits.ADMIN_EVENTS]
        return self._latest


class MatchEventInline(ReadOnlyInline):
    model = MatchEvent
    formset = LatestEventsFormSet
    fields = ["tick", "kind", "player", "payload", "created"]
    verbose_name_plural = f"latest events (newest {limits.ADMIN_EVENTS}; all under Match events)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("player")


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "status",
        "creator",
        "players",
        "tick_rate",
        "created",
        "started",
        "ended",
        "final_entities",
        "replay",
    ]
    list_filter = ["status", "created"]
    search_fields = ["name", "participations__player__nickname"]
    list_select_related = ["creator"]
    date_hierarchy = "created"
    raw_id_fields = ["creator"]
    exclude = ["tick_lag"]  # shown as its summary
    # What the game writes is never edited by hand; while the match runs, its settings neither.
    GAME_WRITES = [
        "id", "created", "status", "started", "ended", "end_reason", "arbiter_channel", "epoch",
        "last_tick", "last_tick_at", "tick_lag_summary", "final_entities", "checkpoint", "replay",
    ]  # fmt: skip
    LIVE_SETTINGS = ["tick_rate", "arena_width", "arena_depth", "max_players", "creator"]
    inlines = [ParticipationInline, MatchEventInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == Match.Status.RUNNING:
            return [*self.GAME_WRITES, *self.LIVE_SETTINGS]
        return self.GAME_WRITES

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would delete matches with events too
        return actions

    def has_delete_permission(self, request, obj=None):
        # A match's events are its evidence: a match that has any is not deleted here
        # (`manage.py prunerecords` applies the retention policy).
        if obj is not None and obj.events.exists():
            return False
        return super().has_delete_permission(request, obj)

    actions = ["operate"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(seat_count=Count("participations", distinct=True))

    @admin.action(description="Correct a running match (move or remove cubes, kick a player)")
    def operate(self, request, queryset):
        """Open the operator-action form for the one running match selected."""
        running = queryset.filter(status=Match.Status.RUNNING)
        if running.count() != 1:
            self.message_user(request, "Select exactly one running match.", level=messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:game_operatoraction_add") + f"?match={running.get().pk}")

    @admin.display(description="replay")
    def replay(self, obj):
        """An ended match's replay viewer (the game keeps the log and streams it)."""
        if not obj.is_over:
            return "—"
        return format_html('<a href="{}">watch replay</a>', reverse("lobby:replay", args=[obj.pk]))

    @admin.display(description="players", ordering="seat_count")
    def players(self, obj):
        return obj.seat_count

    @admin.display(description="tick lag")
    def tick_lag_summary(self, obj):
        s = ticklag.summary(obj.tick_lag or {})
        return (
            "no ticks recorded"
            if s is None
            else (
                f"p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} ms over {s['ticks']:,} ticks"
            )
        )


@admin.register(Player)
class PlayerAdmin(admin.ModelAdmin):
    list_display = ["nickname", "user", "created", "last_seen", "created_from"]
    search_fields = ["nickname", "user__username"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["created", "last_seen"]


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin):
    list_display = ["player", "match", *SEAT_FIELDS]
    list_filter = ["online", "kicked"]
    search_fields = ["player__nickname", "match__name"]
    list_select_related = ["player", "match"]
    raw_id_fields = ["player", "match"]


REDACTED = "[redacted by staff]"


@admin.register(MatchEvent)
class MatchEventAdmin(admin.ModelAdmin):
    """Events are evidence (rule verdicts among them): read, never added, edited or deleted here.
    The one change staff may make is to redact a chat message's text: the event stays, its
    text is replaced and its payload says who redacted it and when."""

    list_display = ["match", "tick", "kind", "player", "rule", "reason", "created"]
    list_filter = ["kind"]
    search_fields = ["match__name", "player__nickname"]
    list_select_related = ["match", "player"]
    actions = ["redact_chat"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_redact_permission(self, request):
        """Staff who may change match events (superusers, or whom it was granted); the
        change form itself stays closed (has_change_permission)."""
        return (
            request.user.is_active
            and request.user.is_staff
            and request.user.has_perm("lobby.change_matchevent")
        )

    @admin.action(description="Redact the text of selected chat messages", permissions=["redact"])
    def redact_chat(self, request, queryset):
        at, by = timezone.now(), request.user
        done = 0
        for event in queryset.filter(kind=MatchEvent.Kind.CHAT):
            payload = dict(event.payload or {})
            if "redacted" in payload:
                continue  # once is enough: the first redaction's who and when stay
            payload["text"] = REDACTED
            payload["redacted"] = {"by": by.get_username(), "by_id": by.pk, "at": at.isoformat()}
            MatchEvent.objects.filter(pk=event.pk).update(payload=payload)
            self.log_change(request, event, "Redacted the chat text.")
            done += 1
        skipped = queryset.count() - done
        text = f"Redacted {done} chat message(s)."
        if skipped:
            text += f" {skipped} selected event(s) were not chat or were redacted already."
        self.message_user(request, text, level=messages.SUCCESS if done else messages.WARNING)

    @admin.display(description="rule")
    def rule(self, obj):
        return (obj.payload or {}).get("rule", "") or (obj.payload or {}).get("code", "")

    @admin.display(description="reason")
    def reason(self, obj):
        payload = obj.payload or {}
        if obj.kind == MatchEvent.Kind.CHAT:  # a chat line's text (escaped by the admin, as any value)
            text = str(payload.get("text", ""))  # short: a line without spaces must not widen the table
            return text if len(text) <= 60 else text[:59] + "…"
        return str(payload.get("reason") or (payload.get("evidence") or {}).get("reason", "") or "")[:120]
