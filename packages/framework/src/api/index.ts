export { createApiHandler, type ApiHandler, type ApiHandlerOptions } from './http-api.js';
export { API_ERROR_STATUS, RaftApiError, httpStatusOf, type ApiErrorCode } from './errors.js';
export { RaftkitError, ERROR_CODES, isErrorCode, type ErrorCode } from '../common/errors.js';
export { WS_CLOSE_COMPACTED, WS_CLOSE_SLOW_CONSUMER, wsCloseCode, type WatchOptions } from './watch.js';
export type * from './node-service.js';
export { LeaderForwarder, type ForwarderOptions, type LeaderRef } from './forwarder.js';
export { APPLIED_INDEX_HEADER, untilApplied } from './applied-here.js';
export { PeerClient, type PeerCallOptions, type PeerReply } from './peer-client.js';
export { errorReply, readBody, sendError, sendJson, type ErrorReply } from './http-util.js';
