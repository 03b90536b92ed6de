#!/usr/bin/env node
// Runs a TypeScript entry point (benchmarks, scripts) with tsx: `node bin/run-ts.cjs file.ts [args]`.
const path = require('node:path');
require('tsx/cjs');
const [, , file, ...rest] = process.argv;
process.argv = [process.argv[0], path.resolve(file), ...rest];
require(path.resolve(file));
