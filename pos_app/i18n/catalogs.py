"""Extraction and catalog upkeep: `posctl i18n extract` finds every message (settings in
pyproject.toml, [tool.babel]) and adds the new ones to each `.po` file, untranslated, so
the catalog test names what is left to translate."""

from __future__ import annotations

import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

from pos_app.i18n import LANGUAGES, catalog_path
from pos_app.settings import REPO_ROOT

# Besides Babel's defaults (_, gettext, ngettext, ...): N_ marks a message where it is
# defined and leaves translating to where it is shown.
KEYWORDS = ("N_",)


HEADER = {
    "en": "# The shop's pages in English: the msgids are the English text, so msgstrs stay empty.",
    "my": "# The shop's pages in Burmese (Unicode), as a Yangon shop's cashier reads them.",
}


def extract(root: Path = REPO_ROOT) -> Catalog:
    """Every message in the code and templates, as a template catalog (nothing written)."""
    with tempfile.TemporaryDirectory() as scratch:
        pot = Path(scratch) / "messages.pot"
        args = ["pybabel", "-q", "extract", "-F", str(root / "pyproject.toml"), "-o", str(pot)]
        for keyword in KEYWORDS:
            args += ["-k", keyword]
        # Babel's command line carries no annotations; it is the same run as `pybabel extract`.
        CommandLineInterface().run(  # type: ignore[no-untyped-call]
            [*args, "--no-location", "--sort-output", str(root)]
        )
        with pot.open("rb") as file:
            return read_po(file)


def read_catalog(locale: str) -> Catalog:
    path = catalog_path(locale)
    if not path.exists():
        return Catalog(locale=locale)
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def untranslated(catalog: Catalog) -> list[str]:
    """The msgids of `catalog` without a (complete, non-fuzzy) translation."""
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def update_catalogs(root: Path = REPO_ROOT) -> dict[str, int]:
    """Brings each locale's .po file in line with the code: new messages added (empty),
    gone ones dropped. Returns how many messages each locale has still to translate."""
    template = extract(root)
    left = {}
    for locale in LANGUAGES:
        catalog = read_catalog(locale)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.project, catalog.version, catalog.fuzzy = "pos-analytics", "0.1.0", False
        catalog.header_comment = HEADER[locale]
        path = catalog_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            write_po(
                file, catalog, width=100, omit_header=False, ignore_obsolete=True, sort_output=True
            )
        # English msgids are the English text: an empty msgstr reads as the msgid.
        left[locale] = 0 if locale == "en" else len(untranslated(catalog))
    return left
