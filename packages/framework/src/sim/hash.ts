// The simulator's checksums are the framework's history checksums (common/history-checksum.ts),
// so a simulated replica and a live one fold their histories alike.

export { HASH_START, mix, mixBytes } from '../common/history-checksum.js';
