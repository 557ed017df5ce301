/** Chats and messages (API.md "Chats and messages" and "Messages: edit, delete, ..."). */
import { type Api, type Message, ok } from "../api/client";

export async function list(api: Api) {
  return ok(await api.GET("/v1/chats", { params: { query: { limit: 50 } } })).items;
}

export async function details(api: Api, chatId: string) {
  return ok(await api.GET("/v1/chats/{chat_id}", { params: { path: { chat_id: chatId } } }));
}

/** A direct chat with one friend (the existing one if there is one), or a group with several. */
export async function create(api: Api, participants: string[], title?: string) {
  return ok(await api.POST("/v1/chats", { body: { participants, title: title || undefined } }));
}

/** The newest page of history (newest first); `cursor` walks back. */
export async function history(api: Api, chatId: string, cursor?: string) {
  return ok(
    await api.GET("/v1/chats/{chat_id}/messages", {
      params: { path: { chat_id: chatId }, query: { limit: 50, cursor } },
    }),
  );
}

export interface Draft {
  content: string;
  replyTo?: string | null;
  attachmentIds?: string[];
}

export async function send(api: Api, chatId: string, draft: Draft): Promise<Message> {
  return ok(
    await api.POST("/v1/chats/{chat_id}/messages", {
      params: { path: { chat_id: chatId } },
      body: {
        content: draft.content,
        // Retrying a send with the same id never makes a duplicate (the server answers 200).
        client_message_id: crypto.randomUUID(),
        reply_to: draft.replyTo ?? undefined,
        attachment_ids: draft.attachmentIds?.length ? draft.attachmentIds : undefined,
      },
    }),
  );
}

export async function edit(api: Api, chatId: string, messageId: string, content: string) {
  return ok(
    await api.PATCH("/v1/chats/{chat_id}/messages/{message_id}", {
      params: { path: { chat_id: chatId, message_id: messageId } },
      body: { content },
    }),
  );
}

export async function remove(api: Api, chatId: string, messageId: string, scope: "everyone" | "me") {
  await api.DELETE("/v1/chats/{chat_id}/messages/{message_id}", {
    params: { path: { chat_id: chatId, message_id: messageId }, query: { for: scope } },
  });
}

export async function react(api: Api, chatId: string, messageId: string, emoji: string, on: boolean) {
  const params = { path: { chat_id: chatId, message_id: messageId, emoji } };
  if (on) await api.PUT("/v1/chats/{chat_id}/messages/{message_id}/reactions/{emoji}", { params });
  else await api.DELETE("/v1/chats/{chat_id}/messages/{message_id}/reactions/{emoji}", { params });
}

/** Receipts: this device got (delivered) and the user saw (read) everything up to a message. */
export async function markRead(api: Api, chatId: string, messageId: string) {
  const params = { path: { chat_id: chatId } };
  await api.POST("/v1/chats/{chat_id}/delivered", { params, body: { message_id: messageId } });
  await api.POST("/v1/chats/{chat_id}/read", { params, body: { message_id: messageId } });
}
