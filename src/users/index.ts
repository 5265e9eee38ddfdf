/** Users: who is calling (API keys, browser sessions) and their keys. What other folders may use. */
export { authenticateApiKey } from './api-keys.repository.ts';
export { sessionsPurgeLoop } from './sessions.purge.ts';
export {
  type CookieSealer,
  createCookieSealer,
  createSessions,
  SESSION_COOKIE,
  type Sessions,
} from './sessions.ts';
export { usersRoutes } from './users.routes.ts';
