import { useState } from 'react'
import { api } from './api.js'
import CopyField from './CopyField.jsx'

const LIFETIMES = [
  ['1 hour', 3600],
  ['1 day', 86400],
  ['7 days', 7 * 86400],
  ['30 days', 30 * 86400],
  ['90 days', 90 * 86400],
]

// Make a share link for an asset (POST /api/v1/assets/{id}/share): the watch link and the
// embed code, to copy. Shown to keys whose policy allows assets:Share, on the player page and
// on the asset page (`heading` names the section there).
export default function ShareBox({ assetId, heading = 'Share' }) {
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

  return (
    <section className="share" aria-labelledby="share-title" data-testid="share-box">
      <h3 id="share-title">{heading}</h3>
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
          <CopyField id="share-url" label="Watch link" value={share.url} />
          <CopyField id="share-embed" label="Embed code" value={share.embed_html} multiline />
          <p className="muted">Anyone with the link can watch until {new Date(share.expires_at).toLocaleString()}.</p>
        </div>
      )}
    </section>
  )
}
