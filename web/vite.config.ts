// The console's build: web/ → dist/console (served by the Rollcall server at `/`).
// `npm run dev:web` serves it with hot reload and proxies the API to a server on :3000.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  root: "web",
  plugins: [react()],
  build: {
    outDir: process.env.CONSOLE_OUT_DIR ?? "../dist/console",
    emptyOutDir: true,
    // No inline scripts or styles: the server's Content-Security-Policy allows 'self' only.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:3000" },
  },
});
