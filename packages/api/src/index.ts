export { appRouter, type AppRouter, type RouterInputs, type RouterOutputs } from "./root";
export { createContext, type Context, type CreateContextOptions } from "./trpc";
export { SESSION_COOKIE, sessionCookieUpdate } from "./cookies";
export { MAX_BATCH_CALLS, MAX_BODY_BYTES, MAX_INPUT_DEPTH } from "./limits";
