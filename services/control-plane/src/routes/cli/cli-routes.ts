import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { cliBundlePath } from '../../plugins/infra/config.js'
import { sendProblem } from '../../plugins/infra/error-handler.js'
import { problemResponses } from '../../schemas/problem.js'
import { ifNoneMatch, sendEmpty } from '../sdk-request.js'

export interface CliRoutesOptions {
  /** The bundle to serve; RINGMASTER_CLI_BUNDLE or the monorepo's build when unset. */
  bundlePath?: string | undefined
}

interface Bundle {
  source: string
  etag: string
  mtimeMs: number
  size: number
}

const buildHint =
  'build it with `pnpm turbo run build --filter=@ringmaster/cli` (it is written to packages/cli/dist/ringmaster.mjs), or point RINGMASTER_CLI_BUNDLE at a built ringmaster.mjs'

/**
 * The `ringmaster` command as one file, served the way Jenkins serves jenkins-cli.jar: a pipeline
 * downloads the CLI from the control plane it talks to, so the two always agree on the API.
 */
export const cliRoutes: FastifyPluginAsyncTypebox<CliRoutesOptions> = async (fastify, options) => {
  const bundlePath = options.bundlePath ?? cliBundlePath()
  let cached: Bundle | undefined

  // Read again only when the file changed (a rebuild while the server runs), else from memory.
  const load = async (): Promise<Bundle | undefined> => {
    const stats = await stat(bundlePath).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined
      throw error
    })
    if (!stats?.isFile()) return undefined
    if (cached?.mtimeMs === stats.mtimeMs && cached.size === stats.size) return cached
    const bytes = await readFile(bundlePath)
    const digest = createHash('sha256').update(bytes).digest('base64url')
    cached = {
      source: bytes.toString('utf8'),
      etag: `"${digest}"`,
      mtimeMs: stats.mtimeMs,
      size: stats.size,
    }
    return cached
  }

  fastify.get(
    '/cli/ringmaster.mjs',
    {
      // The same code anyone can read in the repository; pipelines fetch it before they have
      // anything to authenticate with.
      config: { access: 'public' },
      schema: {
        operationId: 'getCliBundle',
        summary: 'Download the ringmaster CLI as one file',
        description:
          'The `ringmaster` command and everything it needs as one ES module for Node.js 20.19 or later. It is the CLI this server ships with, so it always matches this API. Install it with `curl -fsSL "$RINGMASTER_URL/cli/ringmaster.mjs" -o ringmaster && chmod +x ringmaster`, then run `./ringmaster --help` (or `node ringmaster …`). Send the ETag back in If-None-Match to get a 304 while the file has not changed.',
        tags: ['cli'],
        response: {
          200: {
            description: 'The CLI, an ES module with a `#!/usr/bin/env node` line',
            content: {
              'text/javascript': {
                schema: Type.String({ description: 'JavaScript source' }),
              },
            },
          },
          304: Type.Null({
            description: 'Not modified: the ETag in If-None-Match still names the file served',
          }),
          ...problemResponses(404),
        },
      },
    },
    async (request, reply) => {
      const bundle = await load()
      if (!bundle) {
        request.log.warn({ bundlePath }, 'no CLI bundle to serve')
        return sendProblem(request, reply, {
          status: 404,
          type: 'cli-bundle-missing',
          detail: `this control plane has no CLI bundle to serve; ${buildHint}`,
        })
      }
      reply.header('etag', bundle.etag).header('cache-control', 'public, no-cache')
      if (ifNoneMatch(request.headers['if-none-match'], bundle.etag)) return sendEmpty(reply, 304)
      return reply.type('text/javascript; charset=utf-8').send(bundle.source)
    },
  )
}
