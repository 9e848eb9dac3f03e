import t from 'tap'
import { InvalidInputError } from '../../src/errors.js'
import {
  assertWebhookUrl,
  defaultWebhookRetryPolicy,
  nextWebhookAttemptAt,
  webhookRetryDelayMs,
  webhookSecretPrefix,
} from '../../src/webhook/webhook.js'

const middle = () => 0.5
const lowest = () => 0
const highest = () => 0.999999

t.test('webhookRetryDelayMs: 5 s doubling, capped at 10 min, ±20% jitter', async (t) => {
  const policy = defaultWebhookRetryPolicy
  const cases: [attempts: number, random: () => number, expected: number][] = [
    [1, middle, 5_000],
    [2, middle, 10_000],
    [3, middle, 20_000],
    [7, middle, 320_000],
    [8, middle, 600_000],
    [20, middle, 600_000],
    [1, lowest, 4_000],
    [1, highest, 6_000],
    [20, lowest, 480_000],
    [20, highest, 720_000],
  ]
  for (const [attempts, random, expected] of cases) {
    t.equal(
      webhookRetryDelayMs(attempts, policy, random),
      expected,
      `after ${attempts} failed attempt(s), random=${random()}`,
    )
  }
  const noJitter = { ...policy, jitter: 0, baseDelayMs: 100 }
  t.equal(webhookRetryDelayMs(3, noJitter, highest), 400, 'the policy decides')
})

t.test('nextWebhookAttemptAt gives up after maxAttempts', async (t) => {
  const at = new Date('2026-01-01T00:00:00.000Z')
  const policy = defaultWebhookRetryPolicy
  t.equal(nextWebhookAttemptAt(1, at, policy, middle), '2026-01-01T00:00:05.000Z')
  t.equal(nextWebhookAttemptAt(7, at, policy, middle), '2026-01-01T00:05:20.000Z')
  t.equal(nextWebhookAttemptAt(8, at, policy, middle), null, 'the 8th failure is the last')
  t.equal(nextWebhookAttemptAt(2, at, { ...policy, maxAttempts: 2 }, middle), null)
})

t.test('assertWebhookUrl accepts http(s) without credentials only', async (t) => {
  const cases: [url: string, valid: boolean][] = [
    ['https://executor.example/hooks/ringmaster', true],
    ['http://127.0.0.1:8080/hook?team=payments', true],
    ['ftp://executor.example/hook', false],
    ['javascript:alert(1)', false],
    ['file:///etc/passwd', false],
    ['executor.example/hook', false],
    ['', false],
    ['https://user:pass@executor.example/hook', false],
    ['https://token@executor.example/hook', false],
  ]
  for (const [url, valid] of cases) {
    if (valid) t.doesNotThrow(() => assertWebhookUrl(url), url)
    else
      t.throws(
        () => assertWebhookUrl(url),
        { constructor: InvalidInputError, code: 'invalid-webhook-url' },
        url,
      )
  }
})

t.test('webhookSecretPrefix shows a few characters', async (t) => {
  t.equal(webhookSecretPrefix('whsec_abcdefghijklmnop'), 'whsec_abcd')
})
