"""Sound prompts: the catalogue of every prompt with its text per language, and building
the missing ones with a speech synthesiser (``acd prompts build``; see ``docs/prompts.md``).

* :mod:`acd.prompts.catalogue` — ``catalogue.yaml``, shipped with the package;
* :mod:`acd.prompts.build` — espeak-ng + sox into Asterisk's sounds layout,
  ``<dir>/<language>/<name>.wav`` (8 kHz mono 16-bit).

The grammar of spoken numbers (which ``acd/digits/...`` files say a number) is in
:mod:`acd.core.announce`, which the daemon uses without reading the catalogue.
"""

from acd.prompts.catalogue import (
    Catalogue,
    CatalogueError,
    Entry,
    Text,
    default_catalogue,
    load_catalogue,
)

__all__ = ["Catalogue", "CatalogueError", "Entry", "Text", "default_catalogue", "load_catalogue"]
