#!/usr/bin/env node
// The raftkit-meta server (built from src/main.ts; `npm ci` at the repository root builds it).
import '../dist/src/main.js';
