export { createApp, DEFAULT_BODY_LIMIT_BYTES, type ServeContext } from './app.js';
export { httpErrorInfo } from './errors.js';
export { pipelineOpenApiPaths, pipelineOpenApiSchemas } from './routes/pipelines-openapi.js';
export { isLoopback, type RunningServer, type ServerOptions, startServer } from './server.js';
export { DEFAULT_UI_ROOT, NON_UI_PREFIXES, type ServeUiOptions, serveUi } from './ui.js';
