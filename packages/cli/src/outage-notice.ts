/** What a follower says about its connection; `lost` is true when it went away, false when back. */
export type ConnectionNotice = (line: string, lost: boolean) => void

/**
 * Says once that the control plane went away and once that it is back, however many looks fail
 * in between: a long outage must not fill a pipeline's log.
 */
export class OutageNotice {
  private since: number | undefined

  constructor(private readonly notice: ConnectionNotice) {}

  /** A look got no usable answer; `line` says so, the first time only. */
  failed(line: () => string): void {
    if (this.since !== undefined) return
    this.since = Date.now()
    this.notice(line(), true)
  }

  /** A look was answered. */
  answered(): void {
    if (this.since === undefined) return
    const away = Math.round((Date.now() - this.since) / 1000)
    this.since = undefined
    this.notice(`reached the control plane again after ${away} s`, false)
  }
}
