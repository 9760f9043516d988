"""The enrichment stage: articles-clean.v1 in, articles-enriched.v1 out; the enrichers and the
state and data they use (near-duplicate index, gazetteer)."""
