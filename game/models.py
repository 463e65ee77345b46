"""Operator actions: a staff member's correction of a running match, applied by its arbiter.

The arbiter picks pending actions up with its once-a-second flush, so an action reaches
the match whichever process owns it (in-process or a runworker), and the row keeps who
asked, when, and what came of it.
"""

from django.conf import settings
from django.db import models

from lobby.fastjson import FastJSONEncoder
from lobby.models import Match, Player


class OperatorAction(models.Model):
    class Kind(models.TextChoices):
        MOVE = "move", "move cubes to a point"
        REMOVE = "remove", "remove cubes"
        KICK = "kick", "kick a player"

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="operator_actions")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    entity_ids = models.JSONField(default=list, blank=True, help_text="cube ids, for move and remove")
    x = models.FloatField(null=True, blank=True)
    z = models.FloatField(null=True, blank=True)
    player = models.ForeignKey(Player, null=True, blank=True, on_delete=models.SET_NULL, help_text="for kick")
    reason = models.CharField(max_length=120, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    requested_by_name = models.CharField(max_length=150, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    applied = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.kind} in {self.match.name} by {self.requested_by_name or 'operator'}"

    def as_verdict(self) -> dict:
        """The action in the shape the arbiter applies verdicts in."""
        evidence = {"by": self.requested_by_name or "operator", "action": self.pk}
        if self.reason:
            evidence["reason"] = self.reason
        if self.kind == self.Kind.KICK:
            return {
                "kind": "kick",
                "rule": "operator",
                "player": self.player_id,
                "ids": [],
                "evidence": evidence,
            }
        verdict = {
            "kind": "correction" if self.kind == self.Kind.MOVE else "removal",
            "rule": "operator",
            "player": None,
            "ids": [int(i) for i in self.entity_ids],
            "evidence": evidence,
        }
        if self.kind == self.Kind.MOVE:
            verdict["to"] = [self.x or 0.0, self.z or 0.0]
        return verdict


class MatchLogChunk(models.Model):
    """A stretch of a match's input log (game/sim/inputlog.py), written by the owner's flush in
    the transaction that writes the checkpoint ending it: the entries after the previous chunk
    up to `last_tick`, zlib-compressed msgpack, and every so often the state at `last_tick`
    (a keyframe) to check a replay against. A match's chunks, in order, replay it from tick 0."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="log_chunks")
    first_tick = models.PositiveIntegerField()
    last_tick = models.PositiveIntegerField()
    version = models.PositiveSmallIntegerField()  # the input log's LOG_VERSION
    entries = models.BinaryField()
    keyframe = models.JSONField(null=True, blank=True, encoder=FastJSONEncoder)
    # A short hash of the state at `last_tick` (game/sim/replay.digest): every chunk's end is checked.
    digest = models.CharField(max_length=16, blank=True)
    # On an adopter's first chunk: the state it resumed from (the checkpoint plus the entries it
    # replayed), at a tick inside or just before the chunk; a replay must pass through it exactly.
    resumed = models.JSONField(null=True, blank=True, encoder=FastJSONEncoder)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["match", "first_tick"]
        constraints = [models.UniqueConstraint(fields=["match", "first_tick"], name="one_chunk_per_start")]

    def __str__(self):
        return f"log of {self.match_id}: ticks {self.first_tick}-{self.last_tick}"


class MatchLog(models.Model):
    """The head of a match's input log (game/sim/replay.Header): the log format, the rules
    version the match was played under, its settings and its initial state; written with the
    log's first chunk. A log without one predates it: rules version 1, settings from the Match."""

    match = models.OneToOneField(Match, on_delete=models.CASCADE, primary_key=True, related_name="input_log")
    log_version = models.PositiveSmallIntegerField()
    rules_version = models.PositiveSmallIntegerField()
    settings = models.JSONField()
    initial = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"log of {self.match_id} (rules {self.rules_version})"


class MatchRecord(Match):
    """A match as the game keeps it for good (its input log): the admin's replays, verify,
    export and import (game/admin.py)."""

    class Meta:
        proxy = True
        verbose_name = "match record"
        verbose_name_plural = "match records (replay, verify, export, import)"
