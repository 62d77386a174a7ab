import { useState } from 'react'
import { signOut } from './api.js'

// Who is signed in, with what role (and whether through the demo's one-time link), the
// pages this key may open, and sign-out.
export default function Header({ me, onSignedOut }) {
  const [problem, setProblem] = useState('')
  const leave = async () => {
    try {
      await signOut()
      onSignedOut()
    } catch (e) {
      setProblem(e.message)
    }
  }
  const who = me ? (me.name || `key ${me.key_id}`) : ''
  return (
    <header className="top">
      <h1>prime-vod</h1>
      <nav aria-label="Main">
        <a href="/">Upload</a>
        <a href="/library">Library</a>
        <a href="/dashboard">Dashboard</a>
        {me?.allowed?.['keys:List'] && <a href="/keys">Keys</a>}
        <a href="/docs">API</a>
      </nav>
      {me && (
        <div className="whoami" data-testid="whoami">
          <span>
            Signed in as <strong>{who}</strong> ({me.role}){me.demo ? ' via the demo link' : ''}
          </span>
          <button type="button" onClick={leave} data-testid="sign-out">Sign out</button>
          {problem && <span className="error" role="alert">{problem}</span>}
        </div>
      )}
    </header>
  )
}
