/**
 * The WebSocket API (API.md "Realtime"): `ws://.../?token=<access_token>`, JSON frames
 * `{"type", "data", "cursor"?}` pushed by the server, `{"action": "typing", "chat_id"}` sent.
 * Reconnects with a capped backoff, and when the browser goes offline and back; after every
 * reconnect `onReconnect` runs so the app catches up on what it missed (features/sync.ts).
 */
export interface Frame {
  type: string;
  data: Record<string, unknown>;
  cursor?: string;
}

export type ConnectionState = "connecting" | "online" | "offline";

export class Realtime {
  private socket: WebSocket | null = null;
  private attempts = 0;
  private timer: number | undefined;
  private closed = false;
  private everOpened = false;
  /** The last frame's cursor: what GET /v1/sync?since= will take once it exists. */
  lastCursor: string | null = null;

  constructor(
    private readonly url: string,
    private readonly token: () => string | null,
    private readonly onFrame: (frame: Frame) => void,
    private readonly onState: (state: ConnectionState) => void,
    private readonly onReconnect: () => void,
  ) {
    window.addEventListener("offline", this.wentOffline);
    window.addEventListener("online", this.cameOnline);
  }

  connect(): void {
    const token = this.token();
    if (this.closed || !token || !navigator.onLine) return;
    this.onState("connecting");
    const socket = new WebSocket(`${this.url}/?token=${encodeURIComponent(token)}`);
    this.socket = socket;
    socket.onopen = () => {
      this.attempts = 0;
      this.onState("online");
      if (this.everOpened) this.onReconnect();
      this.everOpened = true;
    };
    socket.onmessage = (event) => {
      const frame = JSON.parse(String(event.data)) as Frame;
      if (frame.cursor) this.lastCursor = frame.cursor;
      this.onFrame(frame);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.onState("offline");
      this.scheduleReconnect();
    };
  }

  sendTyping(chatId: string): void {
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ action: "typing", chat_id: chatId }));
    }
  }

  close(): void {
    this.closed = true;
    window.clearTimeout(this.timer);
    window.removeEventListener("offline", this.wentOffline);
    window.removeEventListener("online", this.cameOnline);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }

  private scheduleReconnect(): void {
    if (this.closed || !navigator.onLine) return;
    const delay = Math.min(10_000, 500 * 2 ** this.attempts++);
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.connect(), delay);
  }

  private readonly wentOffline = (): void => {
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.onState("offline");
  };

  private readonly cameOnline = (): void => {
    this.attempts = 0;
    window.clearTimeout(this.timer);
    if (!this.socket) this.connect();
  };
}
