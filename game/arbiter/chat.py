"""A match's chat, kept by its arbiter: who may say what how often, and what is recorded.

The socket has checked the line's length (game/wire/protocol.chat_text) and that it comes
from a player, not a spectator; the owner, which holds the seats, rate-limits each seat (a
token bucket: CHAT_BURST lines, refilled at CHAT_BURST per CHAT_WINDOW_S), records the line
as a `chat` MatchEvent with the match's other events (written by the once-a-second flush,
game/records/flush.py) and sends it to everyone on the match, spectators included.

Chat is not in the input log (game/sim/inputlog.py): the log holds what changes the world,
so that an adopter or a replay reproduces it bit for bit, and a line of chat changes nothing
in it. Its record is the event; an adopter starts with fresh buckets (a player may send one
burst more across a change of owner, nothing worse).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from game import limits
from game.sim.commands import Event
from game.sim.match import MatchState
from game.sim.rates import TokenBucket
from game.wire.protocol import ProtocolError


@dataclass(slots=True, frozen=True)
class Said:
    """What a chat line came to: `line` for everyone, or `refusal` for its sender only."""

    line: dict | None = None
    refusal: dict | None = None


class Chat:
    """One match's chat rate limits; the lines themselves live in the events and the sockets."""

    def __init__(self) -> None:
        self.buckets: dict[int, TokenBucket] = {}
        # The latest lines, for welcomes (in memory: after an adoption they start again).
        self.recent: deque[dict] = deque(maxlen=limits.CHAT_HISTORY)

    def say(self, state: MatchState, player: int, text: str, now: float) -> Said:
        """Take `player`'s line at loop time `now`: recorded and returned for the match, or refused."""
        seat = state.seats.get(player)
        if seat is None or seat.kicked:
            return Said(refusal=refusal("spectator", "only the match's players can chat"))
        bucket = self.buckets.get(player)
        if bucket is None:
            rate = limits.CHAT_BURST / limits.CHAT_WINDOW_S
            bucket = self.buckets[player] = TokenBucket(rate, limits.CHAT_BURST, now)
        wait = bucket.take(now)
        if wait:
            message = f"at most {limits.CHAT_BURST} chat messages in {limits.CHAT_WINDOW_S:.0f} s"
            return Said(refusal=refusal("rate_limited", message, wait))
        tick = state.world.tick
        state.events.append(Event(tick, "chat", player, {"text": text}))
        line = {"type": "chat", "player": player, "nick": seat.nickname, "text": text, "tick": tick}
        self.recent.append(line)
        return Said(line=line)


def refusal(code: str, message: str, retry_ms: int | None = None) -> dict:
    """The `error` its sender gets (it has no seq), marked as about chat, as the socket's own
    chat refusals are."""
    return ProtocolError(code, message, retry_ms=retry_ms, about="chat").as_message()
