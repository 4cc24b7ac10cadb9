"""The dicts `Engine.profile`, `profile_of`, `lookup`, `explain` and `report` return: plain
dicts with the core's fields, which notebooks show as HTML (rendered by the core)."""

from typing import Any

import polars

from ._omnitwin import explanation_html, pair_explanation_html, profile_html, report_html


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


class Report(dict[str, Any]):
    """The omnichannel report: its tables (lists of rows) by name, and `identity` (health)."""

    #: The tables that are lists of rows.
    TABLES = (
        "customers_by_channel_count",
        "channel_transitions",
        "funnel",
        "revenue_by_channel",
        "revenue_by_first_touch",
        "revenue_by_last_touch",
    )

    def frames(self) -> dict[str, polars.DataFrame]:
        """The tables as polars DataFrames, by name."""
        return {name: polars.DataFrame(self[name]) for name in self.TABLES}

    def _repr_html_(self) -> str:
        return report_html(self)
