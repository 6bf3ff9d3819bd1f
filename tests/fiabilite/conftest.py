"""Fixtures of the reliability tests: the real Celery worker of tests/config.

No autouse `settings` override here: the worker fixture copies Celery's configuration, which reads Django's
settings object, and an overridden one exposes private names Celery cannot read back.
"""

from tests.config.conftest import demarrer_worker, reinitialiser_connexions  # noqa: F401 - fixture re-exported
