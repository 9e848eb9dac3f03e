/** One message of a text/event-stream, as the HTML standard's EventSource reads it. */
export interface ServerSentEvent {
  id: string | undefined
  event: string
  data: string
  /** The reconnection time the server asked for, in milliseconds. */
  retry: number | undefined
}

/**
 * Splits decoded text/event-stream chunks into messages. Comments (`: keep-alive`) are skipped;
 * a message that only sets `retry` is yielded with empty data so the caller can honour it.
 */
export async function* parseServerSentEvents(
  chunks: AsyncIterable<string>,
): AsyncGenerator<ServerSentEvent> {
  let buffer = ''
  let message = emptyMessage()
  let hasFields = false
  for await (const chunk of chunks) {
    buffer += chunk
    const lines = buffer.split(/\r\n|\r|\n/)
    // The last piece has no line ending yet (or is the empty string after one).
    buffer = lines.pop() ?? ''
    for (const line of lines) {
      if (line === '') {
        if (hasFields) yield { ...message, data: message.data.join('\n') }
        message = emptyMessage()
        hasFields = false
        continue
      }
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      let value = colon === -1 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      hasFields = true
      if (field === 'data') message.data.push(value)
      else if (field === 'event') message.event = value
      else if (field === 'id') message.id = value
      else if (field === 'retry' && /^[0-9]+$/.test(value)) message.retry = Number(value)
    }
  }
}

function emptyMessage() {
  return {
    id: undefined as string | undefined,
    event: 'message',
    data: [] as string[],
    retry: undefined as number | undefined,
  }
}
