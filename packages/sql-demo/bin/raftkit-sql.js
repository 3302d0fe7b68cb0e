#!/usr/bin/env node
// The raftkit-sql server and shell (built from src/main.ts; `npm ci` at the repository root builds it).
import '../dist/src/main.js';
