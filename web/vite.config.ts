import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const webDir = fileURLToPath(new URL(".", import.meta.url));
const repoDir = fileURLToPath(new URL("..", import.meta.url));
/** `npm run dev` proxies the API to a server started separately (`npm start` or `npm run dev:server`). */
const api = process.env.VERDANT_API_URL ?? "http://localhost:3000";

export default defineConfig({
  root: webDir,
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // The build script prints gzipped sizes itself (and checks the budget).
    reportCompressedSize: false,
  },
  server: {
    port: Number(process.env.VITE_PORT ?? 5173),
    // web/ imports client/ and shared/ from the repository root.
    fs: { allow: [repoDir] },
    // The browser sees one origin (Vite's), as with the built bundle: the Host header is kept so
    // the server's CSRF check (Origin must match Host) passes, and the session cookie is Vite's origin's.
    proxy: {
      "/trpc": { target: api, changeOrigin: false },
      "/v1": { target: api, changeOrigin: false },
      "/healthz": { target: api },
      "/readyz": { target: api },
    },
  },
});
