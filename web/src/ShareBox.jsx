import { useState } from 'react'
import { api } from './api.js'

const LIFETIMES = [
  ['1 hour', 3600],
  ['1 day', 86400],
  ['7 days', 7 * 86400],
  ['30 days', 30 * 86400],
  ['90 days', 90 * 86400],
]

// Make a share link for an asset (POST /api/v1/assets/{id}/share): the watch link and the
// embed code, to copy. Shown to keys whose policy allows assets:Share.
export default function ShareBox({ assetId }) {
  const [lifetime, setLifetime] = useState(7 * 86400)
  const [share, setShare] = useState(null)
  const [problem, setProblem] = useState('')
  const [busy, setBusy] = useState(false)

  const create = () => {
    setBusy(true)
    setProblem('')
    api(`/api/v1/assets/${assetId}/share`, { method: 'POST', body: { expires_in: lifetime } })
      .then(setShare)
      .catch((e) => setProblem(e.message))
      .finally(() => setBusy(false))
  }
  const copy = (text) => navigator.clipboard?.writeText(text).catch(() => {})

  return (
    <section className="share" aria-labelledby="share-title" data-testid="share-box">
      <h3 id="share-title">Share</h3>
      <div className="share-row">
        <label htmlFor="share-lifetime">Link works for</label>
        <select id="share-lifetime" value={lifetime} onChange={(e) => setLifetime(Number(e.target.value))}>
          {LIFETIMES.map(([label, seconds]) => <option key={seconds} value={seconds}>{label}</option>)}
        </select>
        <button type="button" onClick={create} disabled={busy}>Create share link</button>
      </div>
      {problem && <p className="problem" role="alert">{problem}</p>}
      {share && (
        <div className="share-result" aria-live="polite">
          <label htmlFor="share-url">Watch link</label>
          <div className="share-row">
            <input id="share-url" data-testid="share-url" readOnly value={share.url}
              onFocus={(e) => e.target.select()} />
            <button type="button" onClick={() => copy(share.url)}>Copy link</button>
          </div>
          <label htmlFor="share-embed">Embed code</label>
          <div className="share-row">
            <textarea id="share-embed" data-testid="share-embed" readOnly rows={3} value={share.embed_html}
              onFocus={(e) => e.target.select()} />
            <button type="button" onClick={() => copy(share.embed_html)}>Copy embed code</button>
          </div>
          <p className="muted">Anyone with the link can watch until {new Date(share.expires_at).toLocaleString()}.</p>
        </div>
      )}
    </section>
  )
}
