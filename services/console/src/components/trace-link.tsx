import { useSession } from '../session/session.js'

/**
 * A trace id, linked to the trace viewer when RINGMASTER_TRACE_URL_TEMPLATE is set (its
 * `{traceId}` filled in), else shown as code to paste.
 */
export function TraceLink({ traceId }: { traceId: string }) {
  const { session } = useSession()
  const template = session.console.traceUrlTemplate
  if (!template) return <code>{traceId}</code>
  return (
    <a href={template.replaceAll('{traceId}', traceId)} target="_blank" rel="noreferrer">
      Open trace {traceId}
    </a>
  )
}
