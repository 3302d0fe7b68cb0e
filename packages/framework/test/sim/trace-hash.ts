export { hashTrace } from '../../src/sim/trace-hash.js';
