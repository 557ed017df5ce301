/** Where the API lives. `make dev` serves /config.json beside the app; `?api=&ws=` override it. */
export interface Config {
  /** The HTTP API, e.g. http://127.0.0.1:3000 (no trailing slash). */
  api: string;
  /** The WebSocket API, e.g. ws://127.0.0.1:3001. */
  ws: string;
}

const DEFAULTS: Config = { api: "http://127.0.0.1:3000", ws: "ws://127.0.0.1:3001" };

export async function loadConfig(): Promise<Config> {
  let served: Partial<Config> = {};
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    if (response.ok) served = (await response.json()) as Partial<Config>;
  } catch {
    // `npm run dev` (Vite) has no /config.json: the local stack's default ports apply.
  }
  const query = new URLSearchParams(location.search);
  const pick = (key: keyof Config): string =>
    (query.get(key) ?? served[key] ?? DEFAULTS[key]).replace(/\/+$/, "");
  return { api: pick("api"), ws: pick("ws") };
}
