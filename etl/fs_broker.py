"""`etl demo`'s broker is kombu's filesystem transport. Its writer creates the message file, then
locks and writes it, while a reader moves any file it lists without taking the lock, so a reader
polling at the wrong moment gets an empty message and its worker crashes (JSONDecodeError). The
more queues are polled, the likelier. We write each message under a name no reader matches and
rename it into place: a rename is atomic, so a reader sees a whole message or none."""
from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


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


def install() -> None:
    filesystem.Channel._put = _atomic_put
