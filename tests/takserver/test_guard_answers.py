"""A GeoChat the spillage guard refused is answered in the sender's language, without English."""

from __future__ import annotations

from kyodo.errors import GuardRefused
from kyodo.labels import label_to_dict, parse_marking
from kyodo.scheme_files import default_registry
from kyodo.takserver.geochat.answers import answer_text, refusal


def _refused(reason: str, **params: object) -> GuardRefused:
    return GuardRefused("English detail for the API", (), None, False, reason=reason, params=params)


def test_where_the_text_belongs_is_said_in_japanese_to_a_japanese_sender() -> None:
    registry = default_registry()
    level = label_to_dict(parse_marking("極秘//REL TO USA, JPN", registry), registry)
    key, values = refusal(_refused("guard.above_ceiling", level=level, net="HQ Staff Admin"))
    text = answer_text(key, "ja", **values)
    assert text.startswith("未配信") and "極秘のネット" in text and "HQ Staff Admin" in text
    assert "English" not in text and "guard" not in text
    english = answer_text(key, "en", **values)
    assert "belongs in a 極秘 net, not in HQ Staff Admin" in english


def test_the_label_to_raise_to_is_named_and_an_unknown_reason_falls_back() -> None:
    registry = default_registry()
    suggested = label_to_dict(parse_marking("SECRET//REL TO USA, JPN", registry), registry)
    key, values = refusal(_refused("guard.above_label", suggested=suggested))
    assert "SECRET//REL TO USA, JPN" in answer_text(key, "en", **values)
    key, values = refusal(_refused("guard.no_override"))
    assert key == "guard" and values == {"reason": "English detail for the API"}
