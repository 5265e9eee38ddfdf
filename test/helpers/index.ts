// The emulator helper lives in ./emulator.ts (import it directly), so tests that do not need it do not load it.
export { createTestClock, type TestClock } from './clock.ts';
export {
  createPostgresDatabase,
  type DialectContext,
  describeEachDialect,
  makeTempDir,
  TEST_PG_ADMIN_URL,
  type TestDialect,
} from './dialects.ts';
export {
  makeApiClient,
  makeApiKey,
  makeSessionCookie,
  makeSignedInUser,
  makeUser,
  SESSION_COOKIE,
} from './factories.ts';
export {
  createHttpClient,
  type RequestOptions,
  type TestHttpClient,
  type TestResponse,
} from './http-client.ts';
export { freePort, freePortWithNext } from './ports.ts';
export { budgetHoursDrift, countRows } from './rows.ts';
export { startTestService, TEST_X_CLIENT_ID, type TestService } from './service.ts';
