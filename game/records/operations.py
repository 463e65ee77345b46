"""Operator corrections of a running match, shared by the admin and `manage.py operate`.

An action is a row the match's arbiter picks up within a second (see game/models.py);
validation lives here so both entry points refuse the same things the same way.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from game.models import OperatorAction
from lobby.models import Match, Participation


def validate_action(action: OperatorAction) -> None:
    """Raise ValidationError unless the action can be carried out in its match."""
    if not Match.objects.filter(pk=action.match_id, status=Match.Status.RUNNING).exists():
        raise ValidationError("operator actions apply to running matches only")
    if action.kind == OperatorAction.Kind.KICK:
        if action.player_id is None:
            raise ValidationError("a kick names the player")
        if not Participation.objects.filter(match=action.match, player_id=action.player_id).exists():
            raise ValidationError("that player has no seat in this match")
        return
    ids = action.entity_ids
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and i > 0 for i in ids):
        raise ValidationError("give the cube ids as a list of positive whole numbers, e.g. [3, 7]")
    if action.kind == OperatorAction.Kind.MOVE and (action.x is None or action.z is None):
        raise ValidationError("a move needs the point: x and z")


def request_action(match: Match, kind: str, user=None, name: str = "", **fields) -> OperatorAction:
    """Validate and queue an action for the match's arbiter; who asked is kept with it."""
    action = OperatorAction(
        match=match,
        kind=kind,
        requested_by=user,
        requested_by_name=name or (user.get_username() if user else ""),
        **fields,
    )
    validate_action(action)
    action.save()
    return action
