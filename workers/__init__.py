"""newsflow: streaming ingestion workers for news.

Crawlers publish raw HTML to Kafka; the cleaning stage (:mod:`workers.cleaning.stage`) turns
it into article text and metadata; the enrichment stage (:mod:`workers.enrichment.stage`) adds
signals; :mod:`workers.pipeline` describes both once, and the faust runtime
(:mod:`workers.runtime`) wraps them thinly.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newsflow")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
