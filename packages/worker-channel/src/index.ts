export { WorkerChannel, type CallOptions, type ChannelOptions } from './channel';
export { serveChannel, type CallContext, type Handlers, type Service } from './serve';
export type { Calls } from './protocol';
