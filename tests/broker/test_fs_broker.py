"""The demo's filesystem broker delivers whole messages while writers and readers race."""
from __future__ import annotations

import threading

from kombu import Connection

from etl.broker import filesystem as fs_broker


def test_filesystem_broker_never_delivers_a_partial_message(tmp_path):
    fs_broker.install()
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path), "polling_interval": 0.001,
               "control_folder": str(tmp_path / "control")}
    received, errors, total = [], [], 600

    def consume():
        with Connection("filesystem://", transport_options=options) as conn:
            queue = conn.SimpleQueue("race")
            try:
                while len(received) < total:
                    try:
                        received.append(queue.get(timeout=10).payload)
                    except Exception as exc:  # noqa: BLE001 - any failure is the finding
                        errors.append(exc)
                        return
            finally:
                queue.close()

    reader = threading.Thread(target=consume)
    reader.start()
    with Connection("filesystem://", transport_options=options) as conn:
        queue = conn.SimpleQueue("race")
        for n in range(total):
            queue.put({"n": n, "pad": "x" * 2000})
        queue.close()
    reader.join(60)
    assert not errors, errors[:1]
    assert sorted(m["n"] for m in received) == list(range(total))
