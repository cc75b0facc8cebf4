export { appRouter, type AppRouter, type RouterInputs, type RouterOutputs } from "./root";
export { createContext, type Context, type CreateContextOptions } from "./trpc";
export { SESSION_COOKIE } from "./cookies";
