"""Configuration du projet Référentiel AD (réglages, URL, application Celery)."""

from .celery import app as celery_app

__all__ = ("celery_app",)
