#!/usr/bin/env node
// Entry point of the `tolk` command; the compiled CLI lives in dist/ (built by `make build`).
import '../dist/cli/main.js';
