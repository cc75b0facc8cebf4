import { sveltekit } from "@sveltejs/kit/vite";
import { defineConfig } from "vite";

// `npm run dev` of apps/server listens here. The server refuses state-changing requests whose
// Origin differs from PUBLIC_URL, so start it with PUBLIC_URL=http://localhost:5173 while using
// this dev server (emailed links then point here too).
const apiServer = "http://localhost:3000";

export default defineConfig({
  plugins: [sveltekit()],
  server: {
    proxy: {
      "/api": apiServer,
      "/healthz": apiServer,
      "/readyz": apiServer,
    },
  },
});
