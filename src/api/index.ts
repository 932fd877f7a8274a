export * from './auth';
export * from './cases';
export * from './client';
export { createApiRouter, type ApiHandler, type ApiOptions } from './router';
export { API_PREFIX, ROUTES, type ApiRoute } from './routes';
export { openApiDocument, openApiText, OPENAPI_PATH } from './openapi';
