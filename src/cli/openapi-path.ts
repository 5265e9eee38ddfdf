/** Where the committed OpenAPI document lives (test/openapi.test.ts compares it with the running app's). */
export const OPENAPI_PATH = 'docs/openapi.json';
