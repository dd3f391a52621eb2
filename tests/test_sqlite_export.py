"""The SQLite export: keys, full-text search, Datasette metadata, and Datasette serving it."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import toolkit
from toolkit.export import export
from toolkit.model.model import load_model

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sqlite") / "dist"
    result = export([DATA], out, formats=["parquet", "sqlite"])
    assert result.written
    assert result.files[-2:] == ("factkit.sqlite", "metadata.json")
    return out


def test_every_table_and_row_with_keys(dist: Path) -> None:
    ds = toolkit.load(dist)
    model = load_model()
    with sqlite3.connect(dist / "factkit.sqlite") as conn:
        for name, frame in ds.items():
            assert conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == frame.height
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')]
            assert columns == frame.columns
        # format 2's tables and the resolution tables are there too (compared above)
        for name in ("agreement_steps", "agreement_obligations", "agreement_relations"):
            assert name in ds
        for name in ("deployments", "responses", "clusters", "disagreements", "judgements"):
            assert name in ds
        targets = {(r[3], r[2]) for r in conn.execute("PRAGMA foreign_key_list(supplies)")}
        assert ("supplier", "actors") in targets and ("recipient", "actors") in targets
        targets = {(r[3], r[2]) for r in conn.execute("PRAGMA foreign_key_list(supply_items)")}
        assert ("category", "supply_categories") in targets
        targets = {(r[3], r[2]) for r in conn.execute("PRAGMA foreign_key_list(responses)")}
        assert ("statement", "statements") in targets
        for name, key in (
            ("agreement_steps", ("action", "agreement_actions")),
            ("agreement_steps", ("agreement_id", "agreements")),
            ("agreement_relations", ("agreement", "agreements")),
            ("deployments", ("personnel", "personnel_kinds")),
        ):
            targets = {(r[3], r[2]) for r in conn.execute(f"PRAGMA foreign_key_list({name})")}
            assert key in targets, name
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        for name in ds:
            table = model.tables[name]
            keys = {(r[3], r[2]) for r in conn.execute(f'PRAGMA foreign_key_list("{name}")')}
            assert {(fk.column, fk.table) for fk in table.foreign_keys} <= keys, name
        # a list of statements (format 2's `asserted_by`) is a JSON array, which no SQL key
        # covers: each of its ids is still a statement's
        asserted = conn.execute(
            "SELECT count(*), count(statements.id) FROM supplies, json_each(supplies.asserted_by)"
            " LEFT JOIN statements ON statements.id = json_each.value"
        ).fetchone()
        assert asserted[0] > 0 and asserted[0] == asserted[1]
        # every fact table's evidence is searchable
        for table in model.fact_tables:
            fts = [r[1] for r in conn.execute(f'PRAGMA table_info("{table.name}_fts")')]
            assert "evidence" in fts, table.name
        first = ds["statements"].row(0, named=True)
        stored = conn.execute(
            "SELECT about, said_on FROM statements WHERE id = ?", (first["id"],)
        ).fetchone()
        assert json.loads(stored[0]) == first["about"]


def test_full_text_search_over_statements_and_evidence(dist: Path) -> None:
    ds = toolkit.load(dist)
    statements = ds["statements"]
    expected = sorted(
        statements.filter(
            statements["text"].str.contains("(?i)weapons")
            | statements["evidence"].str.contains("(?i)weapons")
        )["id"].to_list()
    )
    assert expected
    with sqlite3.connect(dist / "factkit.sqlite") as conn:
        found = sorted(
            r[0]
            for r in conn.execute(
                "SELECT id FROM statements WHERE rowid IN "
                "(SELECT rowid FROM statements_fts WHERE statements_fts MATCH 'weapons')"
            )
        )
        assert found == expected
        supplies = ds["supplies"]
        word = supplies["evidence"].drop_nulls()[0].split()[0].strip(".,\"'")
        hits = conn.execute(
            "SELECT count(*) FROM supplies_fts WHERE supplies_fts MATCH ?", (f'"{word}"',)
        ).fetchone()[0]
        assert hits >= 1


def test_metadata_carries_the_codebook_descriptions(dist: Path) -> None:
    meta = json.loads((dist / "metadata.json").read_text(encoding="utf-8"))
    tables = meta["databases"]["factkit"]["tables"]
    model = load_model()
    assert set(tables) == set(model.tables)
    for name, table in model.tables.items():
        assert table.description in tables[name]["description"]
        for col in table.columns:
            assert tables[name]["columns"][col.name] == col.description
    assert tables["statements"]["fts_table"] == "statements_fts"
    assert tables["actors"]["label_column"] == "name"


def test_the_same_input_gives_the_same_bytes(dist: Path, tmp_path: Path) -> None:
    again = tmp_path / "dist"
    assert export([DATA], again, formats=["parquet", "sqlite"]).written
    for name in ("factkit.sqlite", "metadata.json"):
        assert (again / name).read_bytes() == (dist / name).read_bytes()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_datasette_serves_the_tables_and_the_search(dist: Path) -> None:
    pytest.importorskip("datasette")
    port = _free_port()
    base = f"http://127.0.0.1:{port}/factkit"
    database, meta = str(dist / "factkit.sqlite"), str(dist / "metadata.json")
    command = [sys.executable, "-m", "datasette", "serve", database, "-m", meta]
    server = subprocess.Popen(
        [*command, "-h", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{base}.json")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "datasette did not start within 60 s"
                time.sleep(0.3)
        ds = toolkit.load(dist)
        rows = _get(f"{base}/supplies.json?_shape=array&_labels=off")
        assert sorted(r["id"] for r in rows) == sorted(ds["supplies"]["id"].to_list())
        query = urllib.parse.urlencode({"_search": "weapons", "_shape": "array"})
        found = _get(f"{base}/statements.json?{query}")
        assert found and all(
            "weapons" in ((r["text"] or "") + (r["evidence"] or "")).lower() for r in found
        )
        meta = _get(f"http://127.0.0.1:{port}/-/metadata.json")  # what datasette loaded
        speakers = meta["databases"]["factkit"]["tables"]["statements"]["columns"]["speakers"]
        assert speakers == load_model().tables["statements"].column("speakers").description
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
