export { appRouter, type AppRouter, type RouterInputs, type RouterOutputs } from "./root";
export { createContext, type Context, type CreateContextOptions } from "./trpc";
export {
  DEVICE_COOKIE,
  readCookies,
  SESSION_COOKIE,
  serializeDeviceCookie,
  serializeSessionCookie,
  serializeSsoCookie,
  sessionCookieUpdate,
  SSO_FLOW_COOKIE,
  SSO_LINK_COOKIE,
} from "./cookies";
export { HOME_PAGE_SIZE, MAX_BATCH_CALLS, MAX_BODY_BYTES, MAX_INPUT_DEPTH } from "./limits";
