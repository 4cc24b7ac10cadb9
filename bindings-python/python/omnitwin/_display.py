"""The dicts `Engine.profile`, `profile_of`, `lookup` and `explain` return: plain dicts with the
core's fields, which notebooks show as HTML (rendered by the core)."""

from typing import Any

from ._omnitwin import explanation_html, pair_explanation_html, profile_html


class Profile(dict[str, Any]):
    """A profile: identifiers, attributes with provenance, channels, touchpoints."""

    #: The card the engine rendered with the profile's timeline, when it came from an engine.
    _html: str

    def _repr_html_(self) -> str:
        return getattr(self, "_html", None) or profile_html(self)


class Explanation(dict[str, Any]):
    """Why two touchpoints are, or are not, in one profile, with the match-weight waterfall."""

    def _repr_html_(self) -> str:
        return explanation_html(self)


class PairExplanation(dict[str, Any]):
    """Why two records of a `Linker` score as they do: the match-weight waterfall."""

    def _repr_html_(self) -> str:
        return pair_explanation_html(self)
