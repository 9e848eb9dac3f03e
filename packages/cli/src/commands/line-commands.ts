import type { Halt } from '@ringmaster/sdk'
import { type Command, idArgument, optionalString, requireString } from '../command.js'
import { ExitCode, UsageError } from '../exit-codes.js'

type HaltScope = Halt['scope']

const haltScopes: readonly HaltScope[] = ['global', 'service', 'ring']

function haltLine(halt: Halt): string {
  const target = halt.target ? ` ${halt.target}` : ''
  const lifted = halt.liftedAt ? `, lifted by ${halt.liftedBy}` : ''
  return `halt ${halt.id} ${halt.scope}${target}: ${halt.reason} (by ${halt.createdBy}${lifted})`
}

export const lineStop: Command = {
  name: 'line stop',
  summary: 'stop the line: no release moves until the halt is lifted',
  help: `Usage: ringmaster line stop --reason R [--scope global|service|ring --target NAME]

  --reason R             why; shown to everyone whose release waits
  --scope S              global (default), service or ring
  --target NAME          the service or ring, for those scopes`,
  options: { reason: { type: 'string' }, scope: { type: 'string' }, target: { type: 'string' } },
  positionals: [0, 0],
  async run(context) {
    const reason = requireString(context, 'reason')
    const scopeText = optionalString(context, 'scope') ?? 'global'
    const target = optionalString(context, 'target')
    if (!haltScopes.includes(scopeText as HaltScope)) {
      throw new UsageError(`--scope must be global, service or ring, not '${scopeText}'`)
    }
    const scope = scopeText as HaltScope
    if (scope !== 'global' && !target) throw new UsageError(`--scope ${scope} needs --target`)
    if (scope === 'global' && target)
      throw new UsageError('--target is for --scope service or ring')
    const halt = await context.client().post('/v1/halts', {
      body: { scope, reason, ...(target && { target }) },
    })
    context.output.result(
      halt,
      () => `stopped the line: ${haltLine(halt)}\nlift it with: ringmaster line resume ${halt.id}`,
    )
    return ExitCode.success
  },
}

export const lineResume: Command = {
  name: 'line resume',
  summary: 'lift a halt made with line stop',
  help: 'Usage: ringmaster line resume HALT_ID',
  options: {},
  positionals: [1, 1],
  async run(context) {
    const id = idArgument(context, 0, 'HALT_ID')
    const halt = await context.client().delete('/v1/halts/{id}', { params: { path: { id } } })
    context.output.result(halt, () => `lifted ${haltLine(halt)}`)
    return ExitCode.success
  },
}

export const lineStatus: Command = {
  name: 'line status',
  summary: 'list the halts in force',
  help: 'Usage: ringmaster line status',
  options: {},
  positionals: [0, 0],
  async run(context) {
    const body = await context.client().get('/v1/halts', { params: { query: { active: true } } })
    context.output.result(body, () =>
      body.halts.length === 0 ? 'the line is running: no halts' : body.halts.map(haltLine),
    )
    return ExitCode.success
  },
}
