"""Shared language analysis for the enrichers: text normalisation with offsets back to the
original, one spaCy NER pass per article, entity clustering, sentence splitting, and the
offline gazetteer place names are looked up in. It imports no stage: both stages may use it."""
