#!/usr/bin/env node
// Entry point of the `tolk` command; the compiled CLI lives in dist/ (built by `make build`).
// glibc's malloc arenas are capped before anything else starts threads (docs/deploy.md "Memory").
import { limitMallocArenasAtStart } from '../dist/providers/stt/native-heap.js';

limitMallocArenasAtStart();
await import('../dist/cli/main.js');
