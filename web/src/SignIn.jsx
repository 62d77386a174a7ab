import { useEffect, useState } from 'react'
import { signIn } from './api.js'

// Paste a key once: it is traded for an HttpOnly session cookie and not kept anywhere.
export default function SignIn({ onSignedIn, notice }) {
  const [key, setKey] = useState('')
  const [problem, setProblem] = useState('')
  const [busy, setBusy] = useState(false)
  useEffect(() => { document.title = 'Sign in · prime-vod' }, [])
  const submit = async (event) => {
    event.preventDefault()
    setBusy(true)
    setProblem('')
    try {
      const me = await signIn(key)
      setKey('')
      onSignedIn(me)
    } catch (e) {
      setProblem(e.message)
    } finally {
      setBusy(false)
    }
  }
  return (
    <section className="signin" data-testid="signin">
      <h2>Sign in</h2>
      {notice && <p className="muted">{notice}</p>}
      <form className="key" onSubmit={submit}>
        <label htmlFor="signin-key">API key</label>
        <input
          id="signin-key"
          type="password"
          autoComplete="off"
          placeholder="pv_..."
          required
          value={key}
          onChange={(e) => setKey(e.target.value)}
        />
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
      {problem && <p className="problem" role="alert" data-testid="signin-problem">{problem}</p>}
      <p className="muted">
        The key is sent once and exchanged for a session cookie that expires; it is not stored
        in this browser. Create one with <code>primevod keys create --role admin</code>, or open
        the sign-in link that <code>primevod demo</code> prints.
      </p>
    </section>
  )
}
