"""Source packages, one per provider. Each exposes SOURCE (see etl.sources.base.Source)."""
from __future__ import annotations

import importlib

PROVIDERS = {"jira": "etl.sources.jira.source", "github": "etl.sources.github.source"}


def get_source(provider: str):
    try:
        module = PROVIDERS[provider]
    except KeyError:
        raise ValueError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}") from None
    return importlib.import_module(module).SOURCE


def supports_reconcile(provider: str) -> bool:
    return hasattr(get_source(provider), "reconcile_table")
