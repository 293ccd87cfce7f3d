"""`etl demo`'s broker is kombu's filesystem transport, whose files are read and written without
enough care for a reader racing a writer; an empty read crashes the worker with JSONDecodeError.

- Messages: the writer creates the file, then locks and writes it, while a reader moves any file it
  lists without taking the lock. We write each message under a name no reader matches and rename it
  into place: a rename is atomic, so a reader sees a whole message or none.
- Exchange tables: the first binder creates the table file empty and only then locks it, so a
  reader (or a second binder) that gets the lock first parses an empty file. We create the file
  with its binding already in it, by hard-linking a finished temporary file: a link is atomic and
  fails if the name exists, so exactly one creator wins and nobody ever sees an empty table.
- Binding order: bindings are also kept in a process-wide registry, which kombu updates before it
  writes the table file. A second connection in the same process (a worker's publisher beside its
  consumer) then skips the bind and may publish while the file lacks the binding, and the message
  is dropped as unroutable. We write the file first, so the registry never runs ahead of it."""
from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

_original_write_binding = filesystem.Channel._queue_bind
_original_queue_bind = filesystem.Channel.queue_bind


def _atomic_put(self, queue, payload, **kwargs):
    name = "{}_{}.{}.msg".format(int(round(monotonic() * 1000)), uuid.uuid4(), queue)
    final = os.path.join(self.data_folder_out, name)
    partial = final + ".part"  # readers match names ending in "<queue>.msg" only
    try:
        with open(partial, "wb") as f:
            f.write(str_to_bytes(dumps(payload)))
        os.replace(partial, final)
    except OSError as exc:
        raise ChannelError(f"Cannot add file {final!r} to directory") from exc


def _create_exchange_table(self, exchange, binding) -> bool:
    """Create the table file holding `binding`, atomically; False if the file already exists."""
    table = self._exchange_file(exchange)
    if table.exists():
        return False
    self.control_folder.mkdir(exist_ok=True)
    partial = table.with_name(f"{table.name}.{uuid.uuid4()}.part")
    partial.write_bytes(str_to_bytes(dumps([binding])))
    try:
        os.link(partial, table)
        return True
    except FileExistsError:
        return False  # another binder created it first; add ours to its table
    finally:
        partial.unlink()


def _write_binding(self, exchange, routing_key, pattern, queue):
    binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
    if not _create_exchange_table(self, exchange, binding):
        _original_write_binding(self, exchange, routing_key, pattern, queue)  # locked insert


def _queue_bind_file_first(self, queue, exchange=None, routing_key="", arguments=None, **kwargs):
    exchange = exchange or "amq.direct"
    meta = self.typeof(exchange).prepare_bind(queue, exchange, routing_key, arguments)
    self._queue_bind(exchange, *meta)  # idempotent: kombu's bind below finds it there
    return _original_queue_bind(self, queue, exchange, routing_key, arguments, **kwargs)


def install() -> None:
    filesystem.Channel._put = _atomic_put
    filesystem.Channel._queue_bind = _write_binding
    filesystem.Channel.queue_bind = _queue_bind_file_first
