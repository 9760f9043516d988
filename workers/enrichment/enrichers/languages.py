"""The languages an enricher can read.

spaCy's small English model, YAKE's English stop words and VADER's lexicon produce garbage on
other languages, so those enrichers declare :data:`ENGLISH`; the stage gives them
``{"skipped": reason}`` for any other article instead of calling them.
"""

from __future__ import annotations

ENGLISH = frozenset({"en"})
