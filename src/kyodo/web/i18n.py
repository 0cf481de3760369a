"""The web UI's languages: one gettext catalogue (English msgids, Japanese translation)."""

from __future__ import annotations

import functools
import gettext
from importlib import resources
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import HTTPConnection

from kyodo.domain.identity import UI_LANGUAGES

LANGUAGES = UI_LANGUAGES
LANG_COOKIE = "kyodo_lang"


def N_(message: str) -> str:
    """Mark a string for the catalogue without translating it here."""
    return message


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of a language, compiled from its .po when first asked (no build step)."""
    if lang not in LANGUAGES or lang == "en":
        return gettext.NullTranslations()
    po = resources.files("kyodo.web").joinpath("i18n", lang, "LC_MESSAGES", "messages.po")
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def choose_language(
    conn: HTTPConnection, nation: str | None = None, chosen_by_person: str | None = None
) -> str:
    """The reader's language: what the person chose (stored with them, so on any device), else
    this browser's choice, else Japanese for Japanese nationals, else what the browser prefers."""
    if chosen_by_person in LANGUAGES:
        return chosen_by_person
    chosen = conn.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    if nation == "JPN":
        return "ja"
    accept = conn.headers.get("accept-language", "").lower()
    return "ja" if accept.startswith("ja") else "en"
