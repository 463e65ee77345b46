"""Who may see or join a match: the private-code rule and the seat rule, shared by pages and the API."""

import secrets

from .models import Match, Player

FULL = "This match is full."
PRIVATE = "This match is private: open it with the link its creator shared."


def has_seat(match: Match, player: Player | None) -> bool:
    return player is not None and match.participations.filter(player=player).exists()


def can_view(match: Match, player: Player | None, code: str) -> bool:
    """A public match is open to all; a private one to its creator, its seated players, or the right code."""
    if not match.private:
        return True
    if player is not None and match.creator_id == player.pk:
        return True
    if code and match.join_code and secrets.compare_digest(code, match.join_code):
        return True
    return has_seat(match, player)


def refusal(match: Match, player: Player | None, role: str, code: str) -> str | None:
    """Why this visitor may not open the match page in this role, or None if they may."""
    if not can_view(match, player, code):
        return PRIVATE
    if role == "player" and not has_seat(match, player):
        if match.participations.count() >= match.max_players:
            return FULL
    return None
