import { stat } from 'node:fs/promises'
import { relative, resolve, sep } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyError, FastifyPluginAsync, FastifyReply } from 'fastify'
import { consoleDirPath } from '../../plugins/infra/config.js'
import { sendFrameworkError, sendProblem } from '../../plugins/infra/error-handler.js'

export interface ConsoleRoutesOptions {
  /** The built console; RINGMASTER_CONSOLE_DIR or the monorepo's build when unset. */
  consoleDir?: string | undefined
}

/** Paths that belong to the API: an unknown one is a JSON 404 problem, never the console page. */
const apiPrefixes = [
  '/v1',
  '/api',
  '/ofrep',
  '/docs',
  '/healthz',
  '/readyz',
  '/openapi.json',
  '/cli',
]

/** find-my-way's default, which the app keeps. */
const maxParamLength = 100

const isApiPath = (path: string) =>
  apiPrefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))

/** Only the console's own files run, styles and data come from this origin, nothing frames it. */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ')

const buildHint =
  'build it with `pnpm turbo run build --filter=@ringmaster/console` (it is written to services/console/dist), or point RINGMASTER_CONSOLE_DIR at a built console (a folder with index.html)'

/**
 * The web console's built files (issue 16). `/` and every other path that is not the API and
 * names no file answer index.html (the console routes in the browser); files under /assets/ have
 * content hashes in their names, so browsers keep them for a year.
 */
export const consoleRoutes: FastifyPluginAsync<ConsoleRoutesOptions> = async (fastify, options) => {
  const root = resolve(options.consoleDir ?? consoleDirPath())
  // Encapsulated: reply.sendFile exists for these routes only (swagger-ui has its own).
  await fastify.register(fastifyStatic, { root, serve: false, suppressWarning: true })

  const isFile = async (path: string) =>
    (await stat(path).catch(() => undefined))?.isFile() === true

  /** The file a URL path names inside the console folder, or undefined. */
  const fileOf = async (path: string): Promise<string | undefined> => {
    const file = resolve(root, `.${path}`)
    const inside = relative(root, file)
    if (
      inside === '' ||
      inside.startsWith('..') ||
      inside.split(sep).some((part) => part.startsWith('.'))
    ) {
      return undefined
    }
    return (await isFile(file)) ? inside.split(sep).join('/') : undefined
  }

  const secure = (reply: FastifyReply) =>
    reply
      .header('content-security-policy', contentSecurityPolicy)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')

  fastify.get(
    '/*',
    { config: { access: 'public' }, schema: { hide: true } },
    async (request, reply) => {
      const path = `/${(request.params as { '*': string })['*']}`
      if (isApiPath(path)) {
        // The router falls back to this route when a path parameter is too long for it; the API
        // answers that as it did before the console existed.
        const rawPath = request.url.split('?')[0] ?? ''
        if (rawPath.split('/').some((segment) => segment.length > maxParamLength)) {
          const tooLong = Object.assign(new Error('path parameter too long'), {
            code: 'FST_ERR_MAX_PARAM_LENGTH',
            statusCode: 414,
          })
          return sendFrameworkError(tooLong as FastifyError, request, reply)
        }
        return reply.callNotFound()
      }
      secure(reply)
      if (!(await isFile(resolve(root, 'index.html')))) {
        return sendProblem(request, reply, {
          status: 404,
          type: 'console-not-built',
          detail: `this control plane has no web console to serve (nothing at ${root}); ${buildHint}. The API works without it: see /docs`,
        })
      }
      const file = path === '/' ? undefined : await fileOf(path)
      if (file !== undefined) {
        reply.header(
          'cache-control',
          file.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        )
        return reply.sendFile(file, { cacheControl: false })
      }
      const page = path === '/' || String(request.headers.accept ?? '').includes('text/html')
      if (!page) return reply.callNotFound()
      reply.header('cache-control', 'no-cache')
      return reply.sendFile('index.html', { cacheControl: false })
    },
  )
}
