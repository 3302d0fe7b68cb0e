export type { Envelope, PeerTransport, TransportEvents, TransportLogger, TransportStats } from './transport.js';
export { WsTransport, type WsTransportOptions } from './ws-transport.js';
export { MemoryHub, MemoryTransport, memoryAddress, type MemoryTransportOptions } from './memory-transport.js';
export { encodeMessages, decodeFrame, FrameError } from './codec.js';
