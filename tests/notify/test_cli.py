"""`etl notifications` as an operator runs it (a subprocess with --json): add prints the secret once,
list never does, test is delivered by the workers, deliveries shows the answer, a refused URL is an
error in words, and the URL itself is never printed (only its masked form)."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.cli.test_cli import ROOT, etl, etl_command, unique
from tests.notify.receiver import Receiver

pytestmark = pytest.mark.usefixtures("workers")


def test_add_list_test_deliveries_remove(make_tenant):
    tenant_id, _ = make_tenant()
    with Receiver(path="/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstXk9Q") as hook:
        masked = hook.url.split("/services/")[0] + "/…Xk9Q"
        code, added, _ = etl("notifications", "add", "--tenant", str(tenant_id), "--name", unique("ops"),
                             "--url", hook.url, "--event", "job.failed", "--event", "job.partial", "--format", "slack")
        assert code == 0 and added["secret"].startswith("whsec_") and added["events"] == ["job.failed", "job.partial"]
        webhook_id = added["webhook_id"]

        code, listed, _ = etl("notifications", "list", "--tenant", str(tenant_id))
        assert code == 0 and [w["webhook_id"] for w in listed["webhooks"]] == [webhook_id]
        assert added["secret"] not in str(listed)
        assert added["url_display"] == listed["webhooks"][0]["url_display"] == masked
        assert "/services/" not in str(added) + str(listed)
        text = subprocess.run([*etl_command(), "notifications", "list", "--tenant", str(tenant_id)], cwd=ROOT,
                              env=os.environ.copy(), capture_output=True, text=True, timeout=60).stdout
        assert masked in text and "/services/" not in text

        code, queued, _ = etl("notifications", "test", "--tenant", str(tenant_id), webhook_id)
        assert code == 0 and queued["event"] == "webhook.test"
        (received,) = hook.wait_for(1)
        assert "test notification" in received.json()["text"]

    deadline = time.monotonic() + 30
    while True:
        code, shown, _ = etl("notifications", "deliveries", "--tenant", str(tenant_id), webhook_id)
        if shown["deliveries"][0]["status"] == "succeeded" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert (shown["deliveries"][0]["status"], shown["deliveries"][0]["last_status_code"]) == ("succeeded", 200)

    code, removed, _ = etl("notifications", "remove", "--tenant", str(tenant_id), webhook_id)
    assert code == 0 and removed["webhook_id"] == webhook_id
    code, listed, _ = etl("notifications", "list", "--tenant", str(tenant_id))
    assert listed["webhooks"] == []


def test_a_refused_url_is_an_error_in_words(make_tenant):
    tenant_id, _ = make_tenant()
    code, out, _ = etl("notifications", "add", "--tenant", str(tenant_id), "--name", "internal",
                       "--url", "http://10.1.2.3/hook", "--event", "job.failed")
    assert code == 1 and "private address" in out["error"]
