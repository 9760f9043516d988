"""State the replicas of a stage share: the clean stage's per-site boilerplate memory
(:mod:`workers.cleaning.site_memory`) and the enrich stage's near-duplicate index
(:mod:`workers.enrichment.dedup_index`).

Each store keeps its own logic by its stage; what they have in common is here, once: the
Redis connection and the one error for Redis being away (:mod:`workers.state.connection`),
the choice of backend and the start-up check on it (:mod:`workers.state.backend`).
"""
