"""pulse-etl: Jira and GitHub into an engineering-analytics database, on Celery and RabbitMQ.

`celery -A etl worker -Q extract` finds the app here.
"""
from etl.broker.app import app

__all__ = ["app"]
