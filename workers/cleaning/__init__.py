"""The cleaning stage: raw-html.v1 bytes in, articles-clean.v1 out (charset, extraction with a
deadline, clutter filters, the per-site memory, the page's stated metadata)."""
