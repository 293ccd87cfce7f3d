"""The tenant's mappings over HTTP, one router per resource (tag `mappings`); common.py holds what
they share."""
