import { type FormEvent, useState } from 'react'
import { describeError } from '../format.js'

/** Paste an API token once: it becomes an HttpOnly session cookie and is not kept anywhere else. */
export function SignInPage({
  signIn,
  notice,
}: {
  signIn: (token: string) => Promise<void>
  notice?: string
}) {
  const [token, setToken] = useState('')
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      await signIn(token.trim())
      setToken('')
    } catch (failure) {
      setError(describeError(failure))
    } finally {
      setBusy(false)
    }
  }
  return (
    <main id="main" className="sign-in">
      <h1>Sign in to Ringmaster</h1>
      {notice ? <p role="status">{notice}</p> : null}
      <form onSubmit={submit}>
        <label>
          API token
          <input
            type="password"
            autoComplete="off"
            required
            value={token}
            onChange={(e) => setToken(e.target.value)}
            placeholder="rm_…"
          />
        </label>
        <p className="muted">
          Paste it once: the console keeps a session cookie, never the token. You act with the
          token's role.
        </p>
        {error ? <p role="alert">{error}</p> : null}
        <button type="submit" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
      </form>
    </main>
  )
}
