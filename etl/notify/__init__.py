"""Notifications: tenant admins' webhook subscriptions to events of their jobs and integrations,
delivered by Celery tasks on the `notify` queue (issue 14)."""
