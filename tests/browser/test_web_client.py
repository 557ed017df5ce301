"""Two users in two browser contexts use the reference web client against the local stack."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from messenger_local.gateway import LocalGateway
from messenger_local.web_client import WebClient

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
# A 1x1 PNG: small enough for any avatar limit, real enough for the browser to draw.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def sign_up(page: Page, web: WebClient, nickname: str) -> None:
    page.goto(web.url)
    page.get_by_test_id("register-email").fill(f"{nickname}@example.com")
    page.get_by_test_id("register-password").fill(PASSWORD)
    page.get_by_test_id("register-nickname").fill(nickname)
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("connection")).to_have_text("online")
    # The profile exists (from user.registered): others can find the nickname from now on.
    expect(page.get_by_test_id("me")).to_have_text(nickname)


def messages(page: Page) -> list[str]:
    return page.get_by_test_id("messages").get_by_test_id("content").all_inner_texts()


def test_two_users_befriend_chat_live_and_catch_up_after_going_offline(
    new_page: Callable[[], Page], web_client: WebClient
) -> None:
    tag = uuid.uuid4().hex[:8]
    alice, bob = f"alice_{tag}", f"bob_{tag}"
    a, b = new_page(), new_page()
    sign_up(a, web_client, alice)
    sign_up(b, web_client, bob)

    # A friend request, seen live by bob (friendship.requested over the WebSocket), accepted.
    a.get_by_test_id("friend-nickname").fill(bob)
    a.get_by_test_id("friend-request").click()
    expect(a.get_by_test_id(f"outgoing-{bob}")).to_be_visible()
    b.get_by_test_id(f"accept-{alice}").click()
    expect(b.get_by_test_id(f"friend-{alice}")).to_be_visible()
    expect(a.get_by_test_id(f"friend-{bob}")).to_be_visible()  # friendship.accepted, live
    bob_presence = a.get_by_test_id(f"presence-{bob}")
    expect(bob_presence).to_have_attribute("data-online", "true")

    # Alice opens the direct chat and writes; bob's chat list shows it unread, live.
    a.get_by_test_id(f"chat-with-{bob}").click()
    a.get_by_test_id("composer").fill(f"hello {bob}")
    a.get_by_test_id("composer").press("Enter")
    expect(a.get_by_test_id("messages")).to_contain_text(f"hello {bob}")
    bob_chat = b.get_by_test_id("chat-item").filter(has_text=alice)
    expect(bob_chat.get_by_test_id("unread")).to_have_text("1")
    bob_chat.click()
    expect(b.get_by_test_id("messages")).to_contain_text(f"hello {bob}")
    # Bob read it: alice's receipt turns to read (chat.read, live), bob's badge goes.
    expect(a.get_by_test_id("receipt")).to_have_text("read")
    expect(bob_chat.get_by_test_id("unread")).to_have_count(0)

    # Typing travels over the WebSocket, then bob's answer arrives live.
    b.get_by_test_id("composer").press_sequentially("hi alice", delay=20)
    expect(a.get_by_test_id("typing")).to_contain_text(f"{bob} is typing")
    b.get_by_test_id("composer").press("Enter")
    expect(a.get_by_test_id("messages")).to_contain_text("hi alice")

    # Bob goes offline; what alice sends meanwhile reaches him when he is back (catch-up).
    b.context.set_offline(True)
    expect(b.get_by_test_id("connection")).to_have_text("offline")
    expect(bob_presence).to_have_attribute("data-online", "false")  # presence.changed, live
    a.get_by_test_id("composer").fill("while you were away")
    a.get_by_test_id("composer").press("Enter")
    expect(a.get_by_test_id("messages")).to_contain_text("while you were away")
    assert "while you were away" not in messages(b)
    b.context.set_offline(False)
    expect(b.get_by_test_id("connection")).to_have_text("online")
    expect(bob_presence).to_have_attribute("data-online", "true")
    expect(b.get_by_test_id("messages")).to_contain_text("while you were away")
    assert messages(b)[-3:] == [f"hello {bob}", "hi alice", "while you were away"]


def test_reply_react_edit_delete_and_attach_in_the_browser(
    new_page: Callable[[], Page], web_client: WebClient
) -> None:
    tag = uuid.uuid4().hex[:8]
    carol, dave = f"carol_{tag}", f"dave_{tag}"
    c, d = new_page(), new_page()
    sign_up(c, web_client, carol)
    sign_up(d, web_client, dave)

    # An avatar through the presigned upload; the profile's stable URL is drawn.
    c.get_by_test_id("avatar-file").set_input_files(
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": PIXEL}]
    )
    avatar = c.get_by_test_id("avatar")
    expect(avatar).to_have_attribute("src", re.compile(r"/_cdn/"))
    c.wait_for_function("() => document.querySelector('img.avatar').naturalWidth === 1")

    # Carol finds dave by a prefix of his nickname and asks him from the results.
    c.get_by_test_id("search").fill(dave[:9])
    c.get_by_test_id(f"result-{dave}").get_by_role("button", name="Add").click()
    expect(c.get_by_test_id(f"outgoing-{dave}")).to_be_visible()
    d.get_by_test_id(f"accept-{carol}").click()
    expect(c.get_by_test_id(f"friend-{dave}")).to_be_visible()
    c.get_by_test_id(f"chat-with-{dave}").click()
    c.get_by_test_id("composer").fill("first")
    c.get_by_test_id("composer").press("Enter")
    expect(c.get_by_test_id("message").filter(has_text="first")).to_be_visible()
    first_id = c.get_by_test_id("message").get_attribute("data-message-id")
    first = c.locator(f'[data-message-id="{first_id}"]')

    # A reply with an attachment (presigned POST straight to the local S3, from the browser).
    first.get_by_role("button", name="Reply").click()
    expect(c.get_by_test_id("reply-banner")).to_contain_text("first")
    c.get_by_test_id("attach").set_input_files(
        files=[{"name": "note.txt", "mimeType": "text/plain", "buffer": b"a small note"}]
    )
    c.get_by_test_id("composer").fill("see the note")
    c.get_by_test_id("send").click()
    reply = c.get_by_test_id("message").filter(has_text="see the note")
    expect(reply.get_by_test_id("quote")).to_have_text("first")
    expect(reply.locator("a.file")).to_contain_text("note.txt")

    # Dave sees both, reacts to the first; carol sees the reaction.
    d.get_by_test_id("chat-item").filter(has_text=carol).click()
    dave_first = d.locator(f'[data-message-id="{first_id}"]')
    expect(d.get_by_test_id("messages")).to_contain_text("see the note")
    dave_first.get_by_role("button", name="👍").first.click()
    expect(dave_first.get_by_role("button", name="👍 1")).to_be_visible()
    expect(first.get_by_role("button", name="👍 1")).to_be_visible()  # reaction_added, live

    # Carol edits, then deletes her reply for everyone; dave's history shows both.
    c.once("dialog", lambda dialog: dialog.accept("first, edited"))
    first.get_by_role("button", name="Edit").click()
    expect(first).to_contain_text("first, edited")
    expect(first).to_contain_text("(edited)")
    reply.get_by_role("button", name="Delete").click()
    expect(c.get_by_test_id("messages")).to_contain_text("message deleted")
    d.reload()
    expect(d.get_by_test_id("connection")).to_have_text("online")
    d.get_by_test_id("chat-item").filter(has_text=carol).click()
    expect(d.get_by_test_id("messages")).to_contain_text("first, edited")
    expect(d.get_by_test_id("messages")).to_contain_text("message deleted")


def befriend(asker: Page, asked: Page, asker_nickname: str, asked_nickname: str) -> None:
    asker.get_by_test_id("friend-nickname").fill(asked_nickname)
    asker.get_by_test_id("friend-request").click()
    asked.get_by_test_id(f"accept-{asker_nickname}").click()
    expect(asker.get_by_test_id(f"friend-{asked_nickname}")).to_be_visible()


def test_a_group_chat_of_three_friends(new_page: Callable[[], Page], web_client: WebClient) -> None:
    tag = uuid.uuid4().hex[:8]
    owner, m1, m2 = f"gina_{tag}", f"hank_{tag}", f"ivy_{tag}"
    g, h, i = new_page(), new_page(), new_page()
    for page, nickname in ((g, owner), (h, m1), (i, m2)):
        sign_up(page, web_client, nickname)
    befriend(g, h, owner, m1)
    befriend(g, i, owner, m2)

    for nickname in (m1, m2):
        g.get_by_test_id(f"friend-{nickname}").locator("input.pick").check()
    g.get_by_test_id("group-title").fill(f"trio {tag}")
    g.get_by_test_id("create-group").click()
    expect(g.get_by_test_id("chat-title")).to_have_text(f"trio {tag}")
    g.get_by_test_id("composer").fill("hello both")
    g.get_by_test_id("composer").press("Enter")
    for member in (h, i):
        group = member.get_by_test_id("chat-item").filter(has_text=f"trio {tag}")
        expect(group.get_by_test_id("unread")).to_have_text("1")
        group.click()
        expect(member.get_by_test_id("messages")).to_contain_text("hello both")
    # Every other member read it: the owner's receipt says so.
    expect(g.get_by_test_id("receipt")).to_have_text("read")


def test_the_api_explorer_loads_offline_with_no_failed_request(
    new_page: Callable[[], Page], gateway: LocalGateway
) -> None:
    page = new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
    page.on(
        "response", lambda r: failed.append(f"{r.url}: {r.status}") if r.status >= 400 else None
    )
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{gateway.url}/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() >= 20  # every route of docs/openapi.json
    expect(page.get_by_text("/v1/chats/{chat_id}/messages").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert failed == []
    assert errors == []
