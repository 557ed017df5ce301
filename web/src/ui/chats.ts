/** The chat list: most recent activity first, with the caller's unread count. */
import type { Api, Chat } from "../api/client";
import { h, replace } from "../dom";
import * as chats from "../features/chats";
import type { Directory } from "../features/profile";

export interface ChatList {
  element: HTMLElement;
  reload(): Promise<void>;
  chats: Chat[];
}

export function chatTitle(chat: Chat, me: string, directory: Directory): Promise<string> {
  if (chat.type === "group") return Promise.resolve(chat.title ?? "Group");
  const other = chat.participants.find((p) => p !== me) ?? me;
  return directory.nickname(other);
}

export function chatList(api: Api, me: string, directory: Directory, open: (chat: Chat) => void): ChatList {
  const items = h("ul", { "data-testid": "chats" });
  const list: ChatList = {
    chats: [],
    element: h("section", { class: "chats" }, h("h2", {}, "Chats"), items),
    async reload() {
      list.chats = await chats.list(api);
      const rows = await Promise.all(
        list.chats.map(async (chat) => {
          const title = await chatTitle(chat, me, directory);
          const last = chat.last_message;
          return h(
            "li",
            { "data-testid": "chat-item", "data-chat-id": chat.chat_id, "data-title": title, onclick: () => open(chat) },
            h("strong", {}, title),
            chat.unread_count ? h("span", { class: "badge", "data-testid": "unread" }, chat.unread_count) : null,
            h("div", { class: "preview" }, last ? (last.deleted ? "deleted" : (last.content ?? "📎")) : "no messages yet"),
          );
        }),
      );
      replace(items, ...rows);
    },
  };
  return list;
}
