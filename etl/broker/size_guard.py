"""A guard on every published task message: ids and small JSON only (PRODUCT.md 8). A message over
the limit is refused at publish time instead of clogging the broker. The largest size seen is
kept per process (and written to ETL_MESSAGE_STATS_DIR when set, for the benchmark)."""
from __future__ import annotations

import os

import orjson
from celery.signals import before_task_publish

MAX_MESSAGE_BYTES = 1024 * 1024
largest = 0


class MessageTooLarge(ValueError):
    pass


@before_task_publish.connect
def check_message_size(body=None, headers=None, **_):
    global largest
    size = len(orjson.dumps(body, default=str)) + len(orjson.dumps(headers or {}, default=str))
    if size > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(
            f"task {headers.get('task') if headers else '?'} message is {size} bytes (limit {MAX_MESSAGE_BYTES}): "
            "pass ids, not data"
        )
    if size > largest:
        largest = size
        stats_dir = os.environ.get("ETL_MESSAGE_STATS_DIR")
        if stats_dir:
            with open(os.path.join(stats_dir, f"{os.getpid()}.max"), "w") as f:
                f.write(str(size))
