export { startServer, type StartServerOptions, type RunningServer } from './server';
export {
  parseServerConfig,
  serverConfigSchema,
  configHelp,
  SERVER_FIELDS,
  LOG_LEVELS,
  type ServerConfig,
  type ConfigSources,
  type ServerField,
  type LogLevel,
} from './config';
export { STATUS_BY_CODE, HttpError, toHttpError, errorBody, type ErrorType, type ErrorShape } from './errors';
