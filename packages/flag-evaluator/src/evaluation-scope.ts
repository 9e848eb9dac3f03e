import type { UnleashContext } from './client-features.js'
import { type IpAddress, parseIpv4, parseIpv6 } from './ip-address.js'
import { parseSemver, type Semver } from './semver.js'

export interface Clock {
  now: () => number
}

/** Gives every context field a compiled state names a small number, so lookups are by index. */
export class FieldTable {
  readonly names: string[] = []
  private readonly indexes = new Map<string, number>()

  index(name: string): number {
    let index = this.indexes.get(name)
    if (index === undefined) {
      index = this.names.length
      this.names.push(name)
      this.indexes.set(name, index)
    }
    return index
  }
}

const EMPTY_CONTEXT: UnleashContext = {}
const NOW = 1
const ROLLOUT_ID = 2
const VARIANT_ID = 4
const REMOTE_ADDRESS = 8

/**
 * One context while it is being evaluated: each field is read from the context (and parsed as a
 * number, semver, IP address or lower-case text) at most once, however many flags and
 * constraints look at it. The caches are stamped with the evaluation they belong to, so starting
 * the next evaluation invalidates them all without clearing anything.
 */
export class EvaluationScope {
  context: UnleashContext = EMPTY_CONTEXT
  /** Set while an evaluation uses the scope; a nested evaluation then gets its own scope. */
  busy = false
  private epoch = 0
  private resolved = 0
  private currentTimeMs = 0
  private rolloutIdValue: string | undefined
  private variantIdValue: string | undefined
  private remoteAddressValue: IpAddress | null = null
  private readonly valueStamps: Int32Array
  private readonly values: (string | undefined)[]
  private readonly numberStamps: Int32Array
  private readonly numbers: Float64Array
  private readonly lowerStamps: Int32Array
  private readonly lowers: (string | undefined)[]
  private readonly semverStamps: Int32Array
  private readonly semvers: (Semver | null)[]
  private readonly addressStamps: Int32Array
  private readonly addresses: (IpAddress | null)[]

  constructor(
    private readonly names: readonly string[],
    private readonly clock: Clock,
  ) {
    const size = names.length
    this.valueStamps = new Int32Array(size)
    this.values = new Array(size).fill(undefined)
    this.numberStamps = new Int32Array(size)
    this.numbers = new Float64Array(size)
    this.lowerStamps = new Int32Array(size)
    this.lowers = new Array(size).fill(undefined)
    this.semverStamps = new Int32Array(size)
    this.semvers = new Array(size).fill(null)
    this.addressStamps = new Int32Array(size)
    this.addresses = new Array(size).fill(null)
  }

  begin(context: UnleashContext): void {
    this.context = context
    this.resolved = 0
    this.epoch++
    if (this.epoch === 0x7fffffff) {
      for (const stamps of [
        this.valueStamps,
        this.numberStamps,
        this.lowerStamps,
        this.semverStamps,
        this.addressStamps,
      ]) {
        stamps.fill(0)
      }
      this.epoch = 1
    }
  }

  end(): void {
    this.context = EMPTY_CONTEXT
    this.busy = false
  }

  /** The field as a string: top-level first, then `properties`; null counts as absent. */
  value(field: number): string | undefined {
    if (this.valueStamps[field] === this.epoch) return this.values[field]
    const name = this.names[field] as string
    const context = this.context
    const raw =
      context[name] ?? (context.properties as Record<string, unknown> | undefined | null)?.[name]
    const value = raw !== undefined && raw !== null ? String(raw) : undefined
    this.values[field] = value
    this.valueStamps[field] = this.epoch
    return value
  }

  /** `Number(value)`: NaN when absent or not a number. */
  number(field: number): number {
    if (this.numberStamps[field] === this.epoch) return this.numbers[field] as number
    const number = Number(this.value(field))
    this.numbers[field] = number
    this.numberStamps[field] = this.epoch
    return number
  }

  /** The value lower-cased for case-insensitive string operators. */
  lowerCase(field: number): string | undefined {
    if (this.lowerStamps[field] === this.epoch) return this.lowers[field]
    const lower = this.value(field)?.toLocaleLowerCase()
    this.lowers[field] = lower
    this.lowerStamps[field] = this.epoch
    return lower
  }

  /** The value as a semantic version; null when absent, invalid or starting with `v`. */
  semver(field: number): Semver | null {
    if (this.semverStamps[field] === this.epoch) return this.semvers[field] as Semver | null
    const value = this.value(field)
    const semver = !value || value.startsWith('v') ? null : parseSemver(value)
    this.semvers[field] = semver
    this.semverStamps[field] = this.epoch
    return semver
  }

  /** The value as an IPv4 address, else as an IPv6 address, else null. */
  address(field: number): IpAddress | null {
    if (this.addressStamps[field] === this.epoch) return this.addresses[field] as IpAddress | null
    const value = this.value(field)
    const address = value === undefined ? null : (parseIpv4(value) ?? parseIpv6(value))
    this.addresses[field] = address
    this.addressStamps[field] = this.epoch
    return address
  }

  /** The time DATE_* operators compare: `context.currentTime`, else the clock, read once. */
  now(): number {
    if ((this.resolved & NOW) === 0) {
      const { currentTime } = this.context
      this.currentTimeMs = currentTime ? new Date(currentTime).getTime() : this.clock.now()
      this.resolved |= NOW
    }
    return this.currentTimeMs
  }

  /** `userId || sessionId` as rollouts with default stickiness use it; undefined for neither. */
  rolloutId(): string | undefined {
    if ((this.resolved & ROLLOUT_ID) === 0) {
      const id = this.context.userId || this.context.sessionId
      this.rolloutIdValue = id ? String(id) : undefined
      this.resolved |= ROLLOUT_ID
    }
    return this.rolloutIdValue
  }

  /** The first non-empty string of userId, sessionId, remoteAddress: default variant stickiness. */
  variantId(): string | undefined {
    if ((this.resolved & VARIANT_ID) === 0) {
      const { userId, sessionId, remoteAddress } = this.context
      this.variantIdValue =
        typeof userId === 'string' && userId !== ''
          ? userId
          : typeof sessionId === 'string' && sessionId !== ''
            ? sessionId
            : typeof remoteAddress === 'string' && remoteAddress !== ''
              ? remoteAddress
              : undefined
      this.resolved |= VARIANT_ID
    }
    return this.variantIdValue
  }

  /** `context.remoteAddress` as the remoteAddress strategy parses it (IPv4 only). */
  remoteAddress(): IpAddress | null {
    if ((this.resolved & REMOTE_ADDRESS) === 0) {
      this.remoteAddressValue = parseIpv4(this.context.remoteAddress || '')
      this.resolved |= REMOTE_ADDRESS
    }
    return this.remoteAddressValue
  }
}
