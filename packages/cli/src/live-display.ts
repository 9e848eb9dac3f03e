/** Where a live display writes: one call per block, a newline is added after it. */
export type WriteBlock = (block: string) => void

/**
 * Redraws a block of lines in place on a terminal: the cursor goes back to the first line of the
 * previous drawing, clears to the end of the screen and draws again. Lines are cut to the width,
 * because a wrapped line would take two rows and the next redraw would climb one row too few.
 */
export class TerminalDisplay {
  private drawn: string[] = []

  constructor(
    private readonly write: WriteBlock,
    private readonly columns: () => number | undefined,
  ) {}

  show(lines: string[]): void {
    const width = this.columns()
    const fitted = width && width > 1 ? lines.map((line) => cut(line, width - 1)) : lines
    if (fitted.join('\n') === this.drawn.join('\n')) return
    // ESC[nF: to the start of the line n rows up; ESC[J: clear from there to the end of the screen.
    const back = this.drawn.length > 0 ? `\u001b[${this.drawn.length}F\u001b[J` : ''
    this.write(`${back}${fitted.join('\n')}`)
    this.drawn = fitted
  }
}

function cut(line: string, width: number): string {
  return line.length > width ? `${line.slice(0, width - 1)}…` : line
}

/**
 * For logs and pipes: no escape codes, and a line only when what it says changed. Each line has
 * a key (the release, a ring); a line is printed when its key shows something new.
 */
export class ChangeLog {
  private readonly last = new Map<string, string>()

  constructor(private readonly write: WriteBlock) {}

  show(entries: [key: string, line: string | undefined][]): void {
    for (const [key, line] of entries) {
      if (line === undefined) {
        this.last.delete(key)
        continue
      }
      if (this.last.get(key) === line) continue
      this.last.set(key, line)
      this.write(line)
    }
  }
}
