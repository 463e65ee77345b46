"""Page forms for the lobby; their field rules are the API's (lobby.validation)."""

from django import forms

from lobby.limits import DEFAULT_TICK_RATE, MAX_TICK_RATE, MIN_TICK_RATE, NICKNAME_MAX_LEN

from . import limits, validation
from .errors import LobbyError


def _apply(rule, value):
    try:
        return rule(value)
    except LobbyError as error:
        raise forms.ValidationError(error.message) from None


class GuestForm(forms.Form):
    nickname = forms.CharField(
        max_length=NICKNAME_MAX_LEN,
        widget=forms.TextInput(attrs={"autocomplete": "nickname", "autofocus": True, "placeholder": "alice"}),
    )

    def clean_nickname(self):
        return _apply(validation.clean_nickname, self.cleaned_data["nickname"])


class MatchForm(forms.Form):
    name = forms.CharField(
        max_length=limits.MATCH_NAME_MAX_LEN, widget=forms.TextInput(attrs={"placeholder": "Friday brawl"})
    )
    tick_rate = forms.IntegerField(
        label="Tick rate (Hz)",
        min_value=MIN_TICK_RATE,
        max_value=MAX_TICK_RATE,
        initial=DEFAULT_TICK_RATE,
        widget=forms.NumberInput(attrs={"type": "range", "step": 1}),
    )
    private = forms.BooleanField(required=False, label="Private (join by link)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The player cap comes from settings, read per form rather than at import.
        self.fields["max_players"] = forms.IntegerField(
            label="Max players",
            min_value=limits.MIN_PLAYERS,
            max_value=validation.max_players_limit(),
            initial=validation.default_max_players(),
        )
        self.order_fields(["name", "max_players", "tick_rate", "private"])

    def clean_name(self):
        return _apply(validation.clean_match_name, self.cleaned_data["name"])

    def clean_max_players(self):
        return _apply(validation.clean_max_players, self.cleaned_data["max_players"])

    def clean_tick_rate(self):
        return _apply(validation.clean_tick_rate, self.cleaned_data["tick_rate"])

    def spec(self) -> validation.NewMatch:
        return validation.NewMatch(**self.cleaned_data)
