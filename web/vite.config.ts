import { defineConfig } from "vite";

// The built app (dist/) is served by `make dev` on its own origin (http://127.0.0.1:3002/), so it
// calls the HTTP API cross-origin, as a deployed web client would (CORS, decision 52).
export default defineConfig({
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  server: { host: "127.0.0.1", port: 5173, strictPort: false },
});
