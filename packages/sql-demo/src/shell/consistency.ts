// rqlite's read consistency levels, as the shell offers them (.consistency, --consistency).
import type { ConsistencyLevel } from '../client/index.js';

export const CONSISTENCY_LEVELS: readonly ConsistencyLevel[] = ['none', 'weak', 'linearizable', 'strong', 'auto'];
