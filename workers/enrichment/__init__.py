"""The enrichment stage: articles-clean.v1 in, articles-enriched.v1 out; the enrichers and the
near-duplicate index they keep."""
