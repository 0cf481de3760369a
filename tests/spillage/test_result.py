"""Rendering a suggested label whose categories come from another nation's scheme."""

from __future__ import annotations

from collections.abc import Callable

from kyodo.labels import Label, SchemeRegistry
from kyodo.spillage import check, render_label, rules_from_toml

Parse = Callable[[str], Label]


def test_a_category_of_another_scheme_is_rendered_where_it_exists(
    registry: SchemeRegistry, label: Parse
) -> None:
    rules = rules_from_toml(
        """
[[rules]]
id = "sds"
kind = "pattern"
name = "Specially designated"
level = "TOP SECRET"
categories = ["特定秘密"]
pattern = 'project kestrel'
""",
        registry,
    )
    result = check("project kestrel", label("SECRET//REL TO USA, JPN"), rules, registry)
    assert result.refused
    # USA has no SDS category: the suggestion is shown in the JPN scheme, which has one.
    assert render_label(result.suggested, registry) == "機密//特定秘密//REL TO USA, JPN"
    assert result.as_dict(registry)["suggested"] == "機密//特定秘密//REL TO USA, JPN"
