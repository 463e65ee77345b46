"""Durable facts about matches: who played, what happened. World state lives in the arbiter."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from lobby.fastjson import FastJSONEncoder
from lobby.limits import DEFAULT_ARENA, DEFAULT_TICK_RATE

PALETTE = [
    "#e5533d",
    "#3d8be5",
    "#3dbf5a",
    "#e5b83d",
    "#9b5de5",
    "#2ec4b6",
    "#f15bb5",
    "#8d6e63",
    "#ff8c42",
    "#00bbf9",
    "#a3c73d",
    "#c0392b",
]


class Player(models.Model):
    """A person at the table: a Django user, or a guest known by a nickname and a session."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="player"
    )
    nickname = models.CharField(max_length=24)
    created = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True, db_index=True)  # who is online (lobby), pruning
    created_from = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return self.nickname

    @property
    def is_guest(self) -> bool:
        return self.user_id is None


class Match(models.Model):
    class Status(models.TextChoices):
        LOBBY = "lobby"
        RUNNING = "running"
        FINISHED = "finished"
        ABANDONED = "abandoned"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.LOBBY, db_index=True)
    creator = models.ForeignKey(Player, null=True, on_delete=models.SET_NULL, related_name="created_matches")
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    ended = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=120, blank=True)
    max_players = models.PositiveIntegerField(default=8)
    tick_rate = models.PositiveSmallIntegerField(default=DEFAULT_TICK_RATE)
    arena_width = models.PositiveIntegerField(default=DEFAULT_ARENA)
    arena_depth = models.PositiveIntegerField(default=DEFAULT_ARENA)
    private = models.BooleanField(default=False)
    join_code = models.CharField(max_length=16, blank=True)
    # The arbiter worker that owns the match: its unique channel name, and its heartbeat.
    arbiter_channel = models.CharField(max_length=200, blank=True)
    # The fencing token: each claim raises it, and every write of an owner names the epoch
    # it owns, so a worker that lost the match (without knowing yet) writes nothing.
    epoch = models.PositiveIntegerField(default=0)
    last_tick = models.PositiveIntegerField(default=0)
    last_tick_at = models.DateTimeField(null=True, blank=True)
    # The world as of the last flush, so another worker can adopt the match.
    checkpoint = models.JSONField(null=True, blank=True, encoder=FastJSONEncoder)
    # The arbiter's tick lag (due time to snapshot sent) since it took the match: a sparse
    # histogram {"<ms>": count} in 1 ms buckets, written with each flush (lobby/ticklag.py).
    tick_lag = models.JSONField(null=True, blank=True)
    final_entities = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name_plural = "matches"

    def __str__(self):
        return f"{self.name} ({self.status})"

    def save(self, *args, **kwargs):
        if self.private and not self.join_code:
            self.join_code = secrets.token_hex(3)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        if self.status in (self.Status.FINISHED, self.Status.ABANDONED):
            return reverse("lobby:summary", args=[self.id])
        return reverse("lobby:play", args=[self.id])

    @property
    def is_over(self) -> bool:
        return self.status in (self.Status.FINISHED, self.Status.ABANDONED)

    @property
    def duration(self):
        if self.started and self.ended:
            return self.ended - self.started
        return None

    @property
    def ws_path(self) -> str:
        return f"/ws/match/{self.id}/"

    @property
    def group_name(self) -> str:
        return f"match.{self.id.hex}"


class Participation(models.Model):
    """A player's seat in a match, with what they did there."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="participations")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="participations")
    color = models.CharField(max_length=7)
    joined = models.DateTimeField(auto_now_add=True)
    left = models.DateTimeField(null=True, blank=True)
    online = models.BooleanField(default=False)
    kicked = models.BooleanField(default=False)
    last_seq = models.PositiveIntegerField(default=0)
    spawned = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    moves = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["joined"]
        constraints = [models.UniqueConstraint(fields=["match", "player"], name="one_seat_per_player")]

    def __str__(self):
        return f"{self.player} in {self.match.name}"


class MatchEvent(models.Model):
    """Something that happened in a match: joins, leaves, spawns, deletes, rejections, verdicts, chat."""

    class Kind(models.TextChoices):
        JOIN = "join"
        LEAVE = "leave"
        SPAWN = "spawn"
        DELETE = "delete"
        REJECT = "reject"
        ERROR = "error"
        START = "start"
        ADOPT = "adopt"
        END = "end"
        CORRECTION = "correction"
        WARNING = "warning"
        KICK = "kick"
        CHAT = "chat"  # payload {"text": ...}; staff may redact it (lobby/admin.py)

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="events")
    tick = models.PositiveIntegerField(default=0)
    player = models.ForeignKey(
        Player, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["match", "tick", "id"]
        indexes = [models.Index(fields=["match", "kind"])]

    def __str__(self):
        return f"{self.kind} @ {self.tick}"
