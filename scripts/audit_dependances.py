"""`make audit`: known vulnerabilities in the locked dependencies (uv.lock, every group), checked by pip-audit.

Exit status: 0 none known; 1 a vulnerability, or a package the service could not check (`--strict`: silence is not
a clean bill of health); 3 the vulnerability service cannot be reached from this machine, so nothing was checked.
With `--tolerer-service-injoignable` (CI on a machine without that access), status 3 becomes 0 after a loud warning.

pip-audit asks PyPI's JSON API (https://pypi.org/pypi/<name>/<version>/json) for each pinned version; a package
index mirror that serves only the "simple" pages answers 404 there, which pip-audit reports per package as "not
found": the service is probed first so that this case reads as what it is.
"""

import argparse
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

RACINE = Path(__file__).resolve().parents[1]
# A release that exists for sure: pip-audit reads the per-version page, which some mirrors do not serve.
SONDE = "https://pypi.org/pypi/pip/24.0/json"
SERVICE_INJOIGNABLE = 3


def service_injoignable() -> str | None:
    """Why PyPI's JSON API (pip-audit's default vulnerability service) cannot be used from here, or None."""
    try:
        with urllib.request.urlopen(SONDE, timeout=15) as reponse:  # noqa: S310 - fixed https URL
            if b'"vulnerabilities"' not in reponse.read():
                return "réponse sans champ « vulnerabilities »"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} sur {SONDE}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return f"{getattr(exc, 'reason', exc)} ({SONDE})"
    return None


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--uv", default="uv", help="chemin de uv")
    arguments.add_argument("--tolerer-service-injoignable", action="store_true")
    options = arguments.parse_args()

    raison = service_injoignable()
    if raison is not None:
        print(
            "ERREUR : audit des dépendances impossible, le service de vulnérabilités de pip-audit (API JSON de "
            f"PyPI) est injoignable depuis cette machine : {raison}. AUCUNE dépendance n'a été vérifiée.",
            file=sys.stderr,
        )
        if options.tolerer_service_injoignable:
            print("ATTENTION : poursuite sans audit (--tolerer-service-injoignable).", file=sys.stderr)
            return 0
        return SERVICE_INJOIGNABLE

    exigences = subprocess.run(  # noqa: S603
        [options.uv, "export", "--frozen", "--no-hashes", "--no-emit-project", "--all-groups"],
        cwd=RACINE,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="exigences-") as fichier:
        fichier.write(exigences)
        fichier.flush()
        resultat = subprocess.run(  # noqa: S603
            [
                str(Path(sys.executable).parent / "pip-audit"),
                "--requirement",
                fichier.name,
                "--no-deps",  # uv.lock pins every package: nothing to resolve
                "--disable-pip",
                "--strict",
                "--desc",
                "--progress-spinner",
                "off",
            ],
            cwd=RACINE,
        )
    if resultat.returncode != 0:
        print(
            "ERREUR : vulnérabilité connue (ou paquet non vérifiable) dans les dépendances verrouillées.",
            file=sys.stderr,
        )
    return resultat.returncode


if __name__ == "__main__":
    sys.exit(main())
