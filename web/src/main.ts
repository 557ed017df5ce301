/**
 * The reference web client: one page, no framework. Open it in two windows (each tab keeps its
 * own session) to try the API end to end against `make dev`.
 */
import "./style.css";
import { type Api, type Chat, type Message, createApi, session } from "./api/client";
import { type Config, loadConfig } from "./config";
import { byId, guarded, h, replace } from "./dom";
import { logout } from "./features/auth";
import * as chats from "./features/chats";
import { Directory, me as ownProfile, meWhenReady, setAvatar, updateProfile } from "./features/profile";
import { rereadCatchUp } from "./features/sync";
import { type Frame, Realtime } from "./realtime";
import { authView } from "./ui/auth";
import { type ChatView, chatView } from "./ui/chat";
import { chatList } from "./ui/chats";
import { friendsPanel } from "./ui/friends";

let realtime: Realtime | null = null;

async function start(): Promise<void> {
  const config = await loadConfig();
  const api = createApi(config.api, () => showSignedOut(api, config));
  if (session.token) await showSignedIn(api, config);
  else showSignedOut(api, config);
}

function showSignedOut(api: Api, config: Config): void {
  realtime?.close();
  realtime = null;
  session.clear();
  replace(byId("app"), authView(api, () => void showSignedIn(api, config)));
}

async function showSignedIn(api: Api, config: Config): Promise<void> {
  const me = session.userId ?? "";
  const directory = new Directory(api);
  const connection = h("span", { class: "connection", "data-testid": "connection" }, "connecting");
  const status = h("p", { class: "status", "data-testid": "status" });
  const chatPane = h("div", { class: "chat-pane" }, h("p", {}, "Pick a chat, or start one from a friend."));
  let open: ChatView | null = null;

  const list = chatList(api, me, directory, (chat) => void openChat(chat));
  const reloadChats = guarded(status, () => list.reload());
  const people = friendsPanel(
    api,
    (id, nickname) => directory.remember(id, nickname),
    async (participants, title) => {
      const chat = await chats.create(api, participants, title);
      await reloadChats();
      await openChat(chat);
    },
  );

  async function openChat(chat: Chat): Promise<void> {
    open = realtime ? chatView(api, chat, me, directory, realtime, () => void reloadChats()) : null;
    if (!open) return;
    replace(chatPane, open.element);
    await open.reload();
  }

  /** Every frame the WebSocket pushes (and, once it lands, every item of GET /v1/sync). */
  function onFrame(frame: Frame): void {
    const chatId = typeof frame.data.chat_id === "string" ? frame.data.chat_id : null;
    switch (frame.type) {
      case "message.sent":
        if (open && chatId === open.chatId) open.received(frame.data as unknown as Message);
        void reloadChats();
        break;
      case "message.edited":
      case "message.deleted":
      case "message.reaction_added":
      case "message.reaction_removed":
      case "chat.read":
      case "chat.delivered":
        if (open && chatId === open.chatId) void open.reload();
        if (frame.type !== "chat.delivered") void reloadChats();
        break;
      case "typing":
        if (open && chatId === open.chatId && frame.data.user_id !== me) open.typing(String(frame.data.user_id));
        break;
      case "presence.changed":
        people.setOnline(String(frame.data.user_id), frame.data.online === true);
        break;
      case "friendship.requested":
      case "friendship.accepted":
      case "friendship.rejected":
      case "friendship.removed":
        void people.reload();
        break;
      case "session.revoked":
        showSignedOut(api, config);
        break;
      default:
        // chat.updated / chat.member_added / chat.member_removed land with groups (features/groups.ts).
        void reloadChats();
    }
  }

  const catchUp = rereadCatchUp(
    () => reloadChats(),
    async () => {
      if (open) await open.reload();
    },
  );
  realtime?.close();
  realtime = new Realtime(
    config.ws,
    () => session.token,
    onFrame,
    (state) => {
      connection.textContent = state;
      connection.dataset.state = state;
    },
    () => void catchUp().then(() => people.reload()),
  );

  const profile = await ownProfile(api).catch(() => null); // 404 profile_not_ready just after registering
  const who = h("strong", { "data-testid": "me" }, profile?.nickname ?? "…");
  const avatar = h("img", { class: "avatar", alt: "", "data-testid": "avatar", src: profile?.avatar_url ?? null });
  const description = h("input", { placeholder: "about you", value: profile?.description ?? "", "data-testid": "description" });
  const avatarFile = h("input", { type: "file", accept: "image/png,image/jpeg,image/webp,image/gif", "data-testid": "avatar-file" });
  avatarFile.addEventListener(
    "change",
    guarded(status, async () => {
      const file = avatarFile.files?.[0];
      if (file) avatar.src = (await setAvatar(api, file)).avatar_url ?? "";
    }),
  );

  replace(
    byId("app"),
    h(
      "header",
      {},
      avatar,
      "Signed in as ",
      who,
      " · ",
      connection,
      h("button", { "data-testid": "logout", onclick: () => void logout(api).finally(() => showSignedOut(api, config)) }, "Log out"),
    ),
    h(
      "div",
      { class: "layout" },
      h(
        "aside",
        {},
        h(
          "section",
          { class: "profile" },
          h("h2", {}, "Profile"),
          h("div", { class: "row" }, description, h("button", { onclick: guarded(status, () => updateProfile(api, { description: description.value || null })) }, "Save")),
          h("label", {}, "Avatar ", avatarFile),
        ),
        people.element,
        list.element,
      ),
      chatPane,
    ),
    status,
  );
  realtime.connect();
  await Promise.all([people.reload(), reloadChats()]);
  if (!profile) {
    const ready = await meWhenReady(api).catch(() => null);
    if (ready) who.textContent = ready.nickname;
  }
}

void start();
