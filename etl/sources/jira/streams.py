"""Jira's entity type and its one stream, the issue search, declared per flavor: Cloud
(/rest/api/3/search/jql, nextPageToken) and Data Center (/rest/api/2/search, startAt/total). The
client builds every search request (a sync's pages, reconciliation's id listing, the connection
test's JQL check, a scope check) from this table."""
from __future__ import annotations

from etl.models import WorkItem
from etl.sources.base import StreamSpec
from etl.sources.pagination import OffsetPaginator, TokenPaginator

ISSUE = "jira_issue"  # the entity type, and the name of the stream that yields it

API = {"cloud": "/rest/api/3", "dc": "/rest/api/2"}

ISSUES = {
    "cloud": StreamSpec(name=ISSUE, entity_type=ISSUE, path=f"{API['cloud']}/search/jql", paginator=TokenPaginator(),
                        replication_key="updated", records_key="issues", reconcile_table=WorkItem.__table__),
    "dc": StreamSpec(name=ISSUE, entity_type=ISSUE, path=f"{API['dc']}/search", paginator=OffsetPaginator("issues"),
                     replication_key="updated", records_key="issues", reconcile_table=WorkItem.__table__),
}
STREAMS = (ISSUES["cloud"],)  # what the flavors share: name, entity type, reconcile table
