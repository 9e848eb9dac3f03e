import { InvalidInputError } from '../errors.js'

/** A webhook as everyone may see it: never the secret, only its first few characters. */
export interface Webhook {
  id: number
  service: string
  url: string
  /** Event names it receives (`release.*` a kind, `*` all); empty means every event. */
  events: string[]
  /** How each delivery's body is written: plain JSON, or a Slack or Teams message. */
  format: WebhookFormat
  secretPrefix: string
  createdBy: string
  createdAt: string
  disabledAt: string | null
}

export interface NewWebhook {
  service: string
  url: string
  secret: string
  events: string[]
  /** json when omitted. */
  format?: WebhookFormat | undefined
  createdBy: string
}

export const webhookFormats = ['json', 'slack', 'teams'] as const
export type WebhookFormat = (typeof webhookFormats)[number]

export const webhookDeliveryStates = ['pending', 'delivered', 'failed'] as const
export type WebhookDeliveryState = (typeof webhookDeliveryStates)[number]

/** One event queued for one webhook, and how sending it went so far. */
export interface WebhookDelivery {
  id: number
  webhookId: number
  event: string
  payload: Record<string, unknown>
  state: WebhookDeliveryState
  /** Attempts made since it was queued (or last redelivered). */
  attempts: number
  /** When the sender tries next; null once delivered or failed. */
  nextAttemptAt: string | null
  /** The HTTP status of the last attempt; null before the first or when no answer came. */
  lastStatus: number | null
  lastError: string | null
  createdAt: string
  deliveredAt: string | null
}

/** A due delivery leased to one sender, with what it needs to send it. */
export interface LeasedWebhookDelivery extends WebhookDelivery {
  url: string
  format: WebhookFormat
  /** The HMAC key; only the sender sees it. */
  secret: string
}

/**
 * Webhook secrets are made outside the domain (the control plane uses node:crypto), so that this
 * package stays free of platform APIs.
 */
export interface WebhookSecrets {
  generate(): string
}

/** How much of a secret lists show, so people can tell webhooks apart. */
export const webhookSecretPrefixLength = 10

export function webhookSecretPrefix(secret: string): string {
  return secret.slice(0, webhookSecretPrefixLength)
}

export interface WebhookRetryPolicy {
  /** Attempts before a delivery is given up (state failed). */
  maxAttempts: number
  /** Wait after the first failed attempt; it doubles after each further one. */
  baseDelayMs: number
  /** The longest wait between attempts, before jitter. */
  maxDelayMs: number
  /** Each wait is moved by up to this fraction either way, so retries of many hooks spread out. */
  jitter: number
}

export const defaultWebhookRetryPolicy: WebhookRetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 5_000,
  maxDelayMs: 10 * 60_000,
  jitter: 0.2,
}

/**
 * The wait after the `attempts`-th failed attempt: base × 2^(attempts-1), capped, then moved by
 * up to ±jitter. `random` returns a number in [0, 1), like Math.random.
 */
export function webhookRetryDelayMs(
  attempts: number,
  policy: WebhookRetryPolicy,
  random: () => number,
): number {
  const exponential = Math.min(
    policy.baseDelayMs * 2 ** Math.max(attempts - 1, 0),
    policy.maxDelayMs,
  )
  return Math.round(exponential * (1 + policy.jitter * (2 * random() - 1)))
}

/** When to try again after the `attempts`-th attempt failed at `at`; null means give up. */
export function nextWebhookAttemptAt(
  attempts: number,
  at: Date,
  policy: WebhookRetryPolicy,
  random: () => number,
): string | null {
  if (attempts >= policy.maxAttempts) return null
  return new Date(at.getTime() + webhookRetryDelayMs(attempts, policy, random)).toISOString()
}

/** Executors receive deliveries at this URL; it must be plain http(s) without credentials. */
export function assertWebhookUrl(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new InvalidInputError('invalid-webhook-url', `'${url}' is not an absolute URL`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new InvalidInputError(
      'invalid-webhook-url',
      `webhook URLs must use http or https, not ${parsed.protocol.replace(/:$/, '')}`,
    )
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new InvalidInputError(
      'invalid-webhook-url',
      'webhook URLs must not carry credentials; receivers check the x-ringmaster-signature header instead',
    )
  }
}
