"""Source packages, one per provider. Each exposes SOURCE (see etl.sources.base.Source)."""
from __future__ import annotations

import importlib

PROVIDERS = {"jira": "etl.sources.jira", "github": "etl.sources.github"}


def get_source(provider: str):
    try:
        module = PROVIDERS[provider]
    except KeyError:
        raise ValueError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}") from None
    return importlib.import_module(module).SOURCE
