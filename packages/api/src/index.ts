export { appRouter, type AppRouter, type RouterInputs, type RouterOutputs } from "./root";
export { createContext, type Context, type CreateContextOptions } from "./trpc";
export { readCookie, SESSION_COOKIE, sessionCookieUpdate } from "./cookies";
