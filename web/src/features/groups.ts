/**
 * Group management lands with its issue (API.md "Groups: members, roles, title"); creating a
 * group already works (chats.create with two or more friends). Add here, each as one function
 * like those in chats.ts, and a members panel in ui/chat.ts:
 *   PATCH  /v1/chats/{chat_id}                 {title}          rename (owner/admin)
 *   POST   /v1/chats/{chat_id}/members         {user_ids}       add friends
 *   DELETE /v1/chats/{chat_id}/members/{id}                     remove, or leave (own id)
 *   PATCH  /v1/chats/{chat_id}/members/{id}    {role}           admin/member (owner)
 *   POST   /v1/chats/{chat_id}/owner           {user_id}        hand ownership on
 * System messages (kind "system") already render in ui/chat.ts.
 */
export {};
