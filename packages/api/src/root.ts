import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { adminRouter } from "./routers/admin";
import { authRouter } from "./routers/auth";
import { filesRouter } from "./routers/files";
import { notesRouter } from "./routers/notes";
import { router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  admin: adminRouter,
  notes: notesRouter,
  files: filesRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
