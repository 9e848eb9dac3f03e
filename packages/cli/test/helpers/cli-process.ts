import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import type { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'

const binary = new URL('../../dist/bin.js', import.meta.url).pathname

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface RunningCli {
  process: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves when the process exits. */
  done: Promise<CliResult>
}

/** Starts the built `ringmaster` binary as a process; killed when the test ends. */
export function startCli(t: Test, args: string[], env: Record<string, string> = {}): RunningCli {
  return watchProcess(
    t,
    spawn(process.execPath, [binary, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
}

/**
 * Starts the binary on a pseudo-terminal through script(1), so its stdout is a TTY as for a
 * person at a terminal. What the terminal shows (stdout and stderr together, with its escape
 * codes) is `stdout()`; script -e passes the command's exit code on.
 */
export function startCliInTerminal(
  t: Test,
  args: string[],
  env: Record<string, string> = {},
): RunningCli {
  const command = [process.execPath, binary, ...args]
    .map((word) => `'${word.replaceAll("'", `'\\''`)}'`)
    .join(' ')
  return watchProcess(
    t,
    spawn('script', ['-qefc', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', SHELL: '/bin/sh', TERM: 'xterm', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
}

/** Whether script(1) from util-linux is there to give a test a pseudo-terminal. */
export async function hasScript(): Promise<boolean> {
  const child = spawn('script', ['--version'], { stdio: 'ignore' })
  return new Promise((resolve) => {
    child.on('error', () => resolve(false))
    child.on('close', (code) => resolve(code === 0))
  })
}

function watchProcess(
  t: Test,
  child: ChildProcess & { stdout: Readable; stderr: Readable },
): RunningCli {
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const done = once(child, 'close').then(([code]) => ({
    code: code as number | null,
    stdout,
    stderr,
  }))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return { process: child, stdout: () => stdout, stderr: () => stderr, done }
}

/** Runs the binary to the end. */
export function runCli(
  t: Test,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return startCli(t, args, env).done
}

/** Polls `check` until it returns something truthy; fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(250)
  }
}
