// Loaded into every process of a test run through NODE_OPTIONS (scripts/run-tests.mjs). In a tap
// test process it compiles TypeScript with tsx (esbuild) instead of tap's default ts-node, which
// type-checks nothing either (transpile-only) but costs each test process seconds of CPU to
// compile the app's source. Type errors are caught by `pnpm typecheck`, which CI runs first.
//
// TAP_TYPE_STRIP_ONLY=1 is the switch @tapjs/typescript reads to skip registering ts-node; its
// runner forces it to 0 on Node < 22, so it is set again here, in the test process itself, before
// tap's own import hook reads it. Other processes (tap's runner, servers and CLIs the tests start)
// run JavaScript and are left alone.
import { register } from 'tsx/esm/api'

if (/\.[cm]?tsx?$/.test(process.argv[1] ?? '')) {
  process.env.TAP_TYPE_STRIP_ONLY = '1'
  register()
}
