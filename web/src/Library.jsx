import { useEffect, useState } from 'react'
import { api } from './api.js'

// /library: the ready assets with their posters, duration and renditions.
export default function Library() {
  const [items, setItems] = useState(null)
  const [posters, setPosters] = useState({})
  const [problem, setProblem] = useState('')
  useEffect(() => {
    api('/api/v1/assets?limit=100').then((page) => {
      setItems(page.items)
      page.items.filter((a) => a.status === 'ready').forEach((a) => {
        api(`/api/v1/assets/${a.id}/playback`)
          .then((links) => setPosters((p) => ({ ...p, [a.id]: links.poster_url })))
          .catch(() => {})
      })
    }).catch((e) => setProblem(e.message))
  }, [])
  if (problem) return <p className="problem" role="alert">{problem}</p>
  if (!items) return <p className="muted">Loading…</p>
  if (items.length === 0) return <p className="muted">No assets yet. Upload one.</p>
  return (
    <ul className="library" data-testid="library">
      {items.map((a) => (
        <li key={a.id} className="card" data-testid="library-item" data-status={a.status}>
          {posters[a.id] ? <img src={posters[a.id]} alt="" /> : <div className="noposter" />}
          <a href={`/watch/${a.id}`}><strong>{a.title || a.id}</strong></a>
          <span>{a.status}{a.duration ? ` · ${a.duration.toFixed(1)} s` : ''}</span>
          <span className="muted">
            {a.renditions.filter((r) => r.kind === 'video').map((r) => `${r.height}p`).join(' · ')}
          </span>
        </li>
      ))}
    </ul>
  )
}
