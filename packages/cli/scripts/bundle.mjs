#!/usr/bin/env node
// Bundles the built CLI (dist/bin.js) with its dependencies into dist/ringmaster.mjs: one file
// a pipeline runner with only Node.js can download from the control plane and run.
import { build } from 'esbuild'

const entry = new URL('../dist/bin.js', import.meta.url).pathname
const outfile = new URL('../dist/ringmaster.mjs', import.meta.url).pathname

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // yaml's Node entry point is CommonJS and requires Node built-ins, which an ES module can only
  // do through a require of its own. (dist/bin.js's shebang stays the first line.)
  banner: {
    js: "import { createRequire as createRingmasterRequire } from 'node:module'\nconst require = createRingmasterRequire(import.meta.url)",
  },
  // Not minified: the file is served to anyone and should read like the code it came from.
  logLevel: 'warning',
})
