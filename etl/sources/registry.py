"""The providers, one line each: name -> the module whose SOURCE is its etl.sources.base.Source.
Adding a provider is a package under etl/sources/ and one line here. Modules are imported on
first use, so that reading the provider names (API schemas, validation) loads no source."""
from __future__ import annotations

import importlib

from etl.sources.base import Source

PROVIDERS: dict[str, str] = {
    "jira": "etl.sources.jira.source",
    "github": "etl.sources.github.source",
}


def get_source(provider: str) -> Source:
    try:
        module = PROVIDERS[provider]
    except KeyError:
        raise ValueError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}") from None
    return importlib.import_module(module).SOURCE


def supports_reconcile(provider: str) -> bool:
    return get_source(provider).reconciles


def providers_of(entity_type: str) -> list[str]:
    """The providers whose sources store raw objects of this entity type."""
    return [p for p in PROVIDERS if entity_type in get_source(p).entity_types]
