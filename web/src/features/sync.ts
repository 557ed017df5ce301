/**
 * Catch-up after a reconnect. Until GET /v1/sync lands (API.md "Catch-up and notifications"),
 * the client re-reads what it shows: the chat list and the open chat's newest history page.
 *
 * With /v1/sync: keep the `cursor` of the last frame received (realtime.ts hands it over), call
 * GET /v1/sync?since=<cursor> until has_more is false, and feed every item to the same frame
 * handler as the WebSocket (main.ts onFrame); on 410 sync_expired fall back to the re-read here.
 */
export interface CatchUp {
  (): Promise<void>;
}

export function rereadCatchUp(reloadChats: () => Promise<void>, reloadOpenChat: () => Promise<void>): CatchUp {
  return async () => {
    await reloadChats();
    await reloadOpenChat();
  };
}
