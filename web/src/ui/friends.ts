/** Friends, requests, user search and group creation (the left column). */
import type { Api, Friend } from "../api/client";
import { guarded, h, replace } from "../dom";
import * as friends from "../features/friends";
import { search } from "../features/profile";

export interface FriendsPanel {
  element: HTMLElement;
  reload(): Promise<void>;
  setOnline(userId: string, online: boolean): void;
}

export function friendsPanel(
  api: Api,
  remember: (userId: string, nickname: string) => void,
  openChat: (participants: string[], title?: string) => Promise<void>,
): FriendsPanel {
  const status = h("p", { class: "status", "data-testid": "friends-status" });
  const lists = h("div", { "data-testid": "friends" });
  const results = h("ul", { class: "results", "data-testid": "search-results" });
  let current: Friend[] = [];

  const nickname = h("input", { placeholder: "nickname", "data-testid": "friend-nickname" });
  const sendRequest = guarded(status, async () => {
    const answer = await friends.request(api, nickname.value.trim());
    status.textContent = answer === "accepted" ? "You are now friends" : "Request sent";
    nickname.value = "";
    await panel.reload();
  });

  const query = h("input", { placeholder: "search nicknames", "data-testid": "search" });
  const runSearch = guarded(status, async () => {
    const q = query.value.trim();
    if (!q) return replace(results);
    const found = await search(api, q);
    replace(
      results,
      ...found.map((p) =>
        h("li", { "data-testid": `result-${p.nickname}` }, p.nickname, " ", h("button", { onclick: () => ((nickname.value = p.nickname), sendRequest()) }, "Add")),
      ),
    );
  });
  query.addEventListener("input", () => void runSearch());

  const groupTitle = h("input", { placeholder: "group title (optional)", "data-testid": "group-title" });
  const createGroup = guarded(status, async () => {
    const picked = [...lists.querySelectorAll<HTMLInputElement>("input.pick:checked")].map((c) => c.value);
    if (picked.length < 2) throw new Error("Pick at least two friends for a group");
    await openChat(picked, groupTitle.value.trim());
  });

  const render = (overview: Awaited<ReturnType<typeof friends.overview>>) => {
    current = overview.friends;
    for (const f of [...overview.friends, ...overview.incoming, ...overview.outgoing]) remember(f.user_id, f.nickname);
    replace(
      lists,
      h("h3", {}, "Friends"),
      h(
        "ul",
        {},
        ...overview.friends.map((f) =>
          h(
            "li",
            { "data-testid": `friend-${f.nickname}` },
            h("input", { type: "checkbox", class: "pick", value: f.user_id, title: "for a group" }),
            h("span", { class: f.online ? "dot on" : "dot", "data-testid": `presence-${f.nickname}`, "data-online": String(f.online) }),
            f.nickname,
            " ",
            h("button", { "data-testid": `chat-with-${f.nickname}`, onclick: guarded(status, () => openChat([f.user_id])) }, "Chat"),
            h("button", { onclick: guarded(status, async () => (await friends.remove(api, f.nickname), await panel.reload())) }, "Remove"),
          ),
        ),
      ),
      h("h3", {}, "Requests to you"),
      h(
        "ul",
        {},
        ...overview.incoming.map((r) =>
          h(
            "li",
            { "data-testid": `incoming-${r.nickname}` },
            r.nickname,
            " ",
            h("button", { "data-testid": `accept-${r.nickname}`, onclick: guarded(status, async () => (await friends.accept(api, r.nickname), await panel.reload())) }, "Accept"),
            h("button", { onclick: guarded(status, async () => (await friends.reject(api, r.nickname), await panel.reload())) }, "Reject"),
          ),
        ),
      ),
      h("h3", {}, "Your requests"),
      h(
        "ul",
        {},
        ...overview.outgoing.map((r) =>
          h(
            "li",
            { "data-testid": `outgoing-${r.nickname}` },
            r.nickname,
            " ",
            h("button", { onclick: guarded(status, async () => (await friends.remove(api, r.nickname), await panel.reload())) }, "Cancel"),
          ),
        ),
      ),
    );
  };

  const panel: FriendsPanel = {
    element: h(
      "section",
      { class: "friends" },
      h("h2", {}, "People"),
      h("div", { class: "row" }, nickname, h("button", { "data-testid": "friend-request", onclick: sendRequest }, "Send request")),
      query,
      results,
      lists,
      h("div", { class: "row" }, groupTitle, h("button", { "data-testid": "create-group", onclick: createGroup }, "Create group")),
      status,
    ),
    async reload() {
      render(await friends.overview(api));
    },
    setOnline(userId, online) {
      const friend = current.find((f) => f.user_id === userId);
      const dot = friend && lists.querySelector<HTMLElement>(`[data-testid="presence-${friend.nickname}"]`);
      if (dot) {
        dot.className = online ? "dot on" : "dot";
        dot.dataset.online = String(online);
      }
    },
  };
  return panel;
}
