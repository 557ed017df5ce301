/**
 * One open chat: history (newest page), composer with replies and attachments, edit, delete,
 * reactions, receipts on the caller's own messages, and who is typing.
 */
import type { Api, Chat, Message } from "../api/client";
import { guarded, h, replace } from "../dom";
import * as chats from "../features/chats";
import type { Directory } from "../features/profile";
import { upload } from "../features/uploads";
import type { Realtime } from "../realtime";
import { chatTitle } from "./chats";

const REACTIONS = ["👍", "❤️", "😂"];

export interface ChatView {
  element: HTMLElement;
  chatId: string;
  reload(): Promise<void>;
  received(message: Message): void;
  typing(userId: string): void;
}

export function chatView(
  api: Api,
  chat: Chat,
  me: string,
  directory: Directory,
  realtime: Realtime,
  onRead: () => void,
): ChatView {
  const status = h("p", { class: "status", "data-testid": "chat-status" });
  const title = h("h2", { "data-testid": "chat-title" });
  void chatTitle(chat, me, directory).then((t) => (title.textContent = t));
  const list = h("ol", { class: "messages", "data-testid": "messages" });
  const typingLine = h("p", { class: "typing", "data-testid": "typing" });
  let messages: Message[] = []; // oldest first, as shown
  let replyTo: Message | null = null;
  let typingTimer: number | undefined;
  let lastTypingSent = 0;

  const replyBanner = h("div", { class: "reply", "data-testid": "reply-banner" });
  const composer = h("input", { placeholder: "Message", "data-testid": "composer" });
  const attach = h("input", { type: "file", "data-testid": "attach" });

  const showReply = () => {
    replace(
      replyBanner,
      replyTo ? `Replying to: ${replyTo.content ?? "…"} ` : null,
      replyTo ? h("button", { onclick: () => ((replyTo = null), showReply()) }, "×") : null,
    );
  };

  let marked: string | null = null; // the newest message already marked read
  const markRead = async () => {
    const newest = messages[messages.length - 1];
    if (newest && newest.author_id !== me && newest.message_id !== marked) {
      marked = newest.message_id;
      await chats.markRead(api, chat.chat_id, newest.message_id);
      onRead();
    }
  };

  const messageRow = async (m: Message): Promise<HTMLElement> => {
    const author = m.author_id === me ? "me" : await directory.nickname(m.author_id);
    const quoted = m.reply_to ? messages.find((x) => x.message_id === m.reply_to) : null;
    const act = (label: string, run: () => Promise<unknown>, testid?: string) =>
      h("button", { class: "act", "data-testid": testid, onclick: guarded(status, async () => (await run(), await view.reload())) }, label);
    const mine = m.author_id === me;
    return h(
      "li",
      { "data-testid": "message", "data-message-id": m.message_id, class: mine ? "mine" : "" },
      h("span", { class: "author" }, author),
      quoted ? h("blockquote", { "data-testid": "quote" }, quoted.content ?? "…") : null,
      m.kind === "system"
        ? h("em", {}, "(group change)")
        : h("span", { class: "content", "data-testid": "content" }, m.deleted ? "message deleted" : (m.content ?? "")),
      m.edited_at ? h("small", {}, " (edited)") : null,
      ...(m.attachments ?? []).map((a) => h("a", { href: a.url, target: "_blank", class: "file" }, `📎 ${a.filename ?? a.content_type}`)),
      h(
        "span",
        { class: "reactions" },
        ...(m.reactions ?? []).map((r) => act(`${r.emoji} ${r.count}`, () => chats.react(api, chat.chat_id, m.message_id, r.emoji, !r.me))),
      ),
      mine && m.status ? h("small", { class: "receipt", "data-testid": "receipt" }, ` ${m.status}`) : null,
      m.deleted || m.kind === "system"
        ? null
        : h(
            "span",
            { class: "actions" },
            ...REACTIONS.map((e) => act(e, () => chats.react(api, chat.chat_id, m.message_id, e, true))),
            h("button", { class: "act", onclick: () => ((replyTo = m), showReply(), composer.focus()) }, "Reply"),
            mine
              ? act("Edit", async () => {
                  const content = prompt("Edit message", m.content ?? "");
                  if (content !== null) await chats.edit(api, chat.chat_id, m.message_id, content);
                })
              : null,
            mine ? act("Delete", () => chats.remove(api, chat.chat_id, m.message_id, "everyone")) : null,
            act("Hide", () => chats.remove(api, chat.chat_id, m.message_id, "me")),
          ),
    );
  };

  const render = async () => {
    replace(list, ...(await Promise.all(messages.map(messageRow))));
    list.scrollTop = list.scrollHeight;
  };

  const send = guarded(status, async () => {
    const file = attach.files?.[0];
    const attachmentIds = file ? [await upload(api, file, "attachment")] : [];
    const content = composer.value.trim();
    if (!content && !attachmentIds.length) return;
    const sent = await chats.send(api, chat.chat_id, { content, replyTo: replyTo?.message_id, attachmentIds });
    composer.value = "";
    attach.value = "";
    replyTo = null;
    showReply();
    view.received(sent);
  });
  composer.addEventListener("keydown", (event) => {
    if (event.key === "Enter") void send();
    else if (Date.now() - lastTypingSent > 2000) {
      lastTypingSent = Date.now();
      realtime.sendTyping(chat.chat_id);
    }
  });

  const view: ChatView = {
    chatId: chat.chat_id,
    element: h(
      "section",
      { class: "chat", "data-testid": "chat", "data-chat-id": chat.chat_id },
      title,
      list,
      typingLine,
      replyBanner,
      h("div", { class: "row" }, composer, attach, h("button", { "data-testid": "send", onclick: send }, "Send")),
      status,
    ),
    async reload() {
      const page = await chats.history(api, chat.chat_id);
      messages = [...page.items].reverse();
      await render();
      await markRead();
    },
    received(message) {
      const at = messages.findIndex((m) => m.message_id === message.message_id);
      if (at >= 0) messages[at] = message;
      else messages.push(message);
      void render().then(markRead);
    },
    typing(userId) {
      void directory.nickname(userId).then((name) => {
        typingLine.textContent = `${name} is typing…`;
        window.clearTimeout(typingTimer);
        typingTimer = window.setTimeout(() => (typingLine.textContent = ""), 3000);
      });
    },
  };
  return view;
}
