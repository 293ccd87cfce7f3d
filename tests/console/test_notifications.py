"""The console's Notifications page in a real browser against the real API, workers, PostgreSQL and
RabbitMQ: a webhook is added with its events, format and stale threshold, its signing secret is
shown once, its URL only masked, a test is sent and reaches a receiver on 127.0.0.1
(tests/notify/receiver.py), and the deliveries table says how it went; a refused address is told in words; the page fits 1280 px.
Screenshots: test-artifacts/console/notifications-NN-*.png."""
from __future__ import annotations

import hashlib
import hmac

import pytest
from playwright.sync_api import expect

from tests.console.browser import no_sideways_scroll, shot, sign_in
from tests.notify.receiver import Receiver

pytestmark = pytest.mark.usefixtures("workers")


def nav(page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications", exact=True).click()


@pytest.mark.console_errors("422")
def test_a_webhook_is_added_its_secret_shown_once_and_a_test_delivered(page, make_tenant):
    _, key = make_tenant()
    sign_in(page, key)
    nav(page)
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(page.get_by_text("No webhook yet")).to_be_visible()

    form = page.get_by_role("form", name="Add a webhook")
    form.get_by_label("Name").fill("internal")
    form.get_by_label("URL").fill("http://10.0.0.5/hook")
    form.get_by_role("button", name="Add webhook").click()
    expect(form.get_by_role("alert")).to_contain_text("private address")
    shot(page, "notifications-01-refused-address")

    with Receiver(path="/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstXk9Q") as hook:
        form.get_by_label("Name").fill("ops-alerts")
        form.get_by_label("URL").fill(hook.url)
        form.get_by_label("Format").select_option("slack")
        form.get_by_label("No completed sync for longer than a threshold").check()
        form.get_by_label("Stale after (minutes without a completed sync)").fill("90")
        form.get_by_role("button", name="Add webhook").click()

        panel = page.get_by_test_id("new-key")
        expect(panel).to_contain_text("only time it is shown")
        secret = panel.get_by_role("textbox", name="The webhook's signing secret").input_value()
        assert secret.startswith("whsec_")
        row = page.locator("tbody tr", has_text="ops-alerts")
        expect(row).to_contain_text("job.failed, integration.stale (after 90 min)")
        expect(row).to_contain_text("Slack")
        expect(row).to_contain_text(hook.url.split("/services/")[0] + "/…Xk9Q")  # the URL is a secret
        assert "abcdefghijklmnopqrst" not in page.content()  # (the form's placeholder has a /services/ path)
        no_sideways_scroll(page)
        shot(page, "notifications-02-added-secret-shown")
        panel.get_by_role("button", name="Done, hide it").click()
        expect(panel).to_have_count(0)
        assert secret not in page.content()

        row.get_by_role("button", name="Send a test to ops-alerts").click()
        (received,) = hook.wait_for(1)
        timestamp = received.headers["X-Pulse-Timestamp"]
        signed = hmac.new(secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
        assert received.headers["X-Pulse-Signature"] == f"sha256={signed}"
        assert "ops-alerts" in received.json()["text"]

    delivery = page.locator("tr[data-delivery]").first
    expect(delivery).to_contain_text("webhook.test")
    expect(delivery).to_contain_text("succeeded", timeout=20_000)
    expect(delivery).to_contain_text("200")
    no_sideways_scroll(page)
    shot(page, "notifications-03-test-delivered")

    row.get_by_role("button", name="Delete ops-alerts").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete the webhook").click()
    expect(page.get_by_text("No webhook yet")).to_be_visible()
