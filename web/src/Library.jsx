import { useEffect, useRef, useState } from 'react'
import { api } from './api.js'

const PAGE = 24

// The request for one page: the library newest first, or the search's best matches.
function pagePath(query, status, cursor) {
  const params = new URLSearchParams({ limit: String(PAGE) })
  if (status) params.set('status', status)
  if (cursor) params.set('cursor', cursor)
  if (query.trim()) {
    params.set('q', query.trim())
    return `/api/v1/search?${params}`
  }
  return `/api/v1/assets?${params}`
}

// /library: the assets with their posters, searched as you type (title, description,
// tags, metadata, probe facts), a page at a time.
export default function Library() {
  const [query, setQuery] = useState('')
  const [status, setStatus] = useState('')
  const [items, setItems] = useState(null)
  const [cursor, setCursor] = useState(null)
  const [posters, setPosters] = useState({})
  const [problem, setProblem] = useState('')
  const latest = useRef(0)

  const loadPosters = (assets) => assets.filter((a) => a.status === 'ready').forEach((a) => {
    api(`/api/v1/assets/${a.id}/playback`)
      .then((links) => setPosters((p) => ({ ...p, [a.id]: links.poster_url })))
      .catch(() => {})
  })

  const load = (more) => {
    const ticket = ++latest.current // a slower answer to an older query is dropped
    api(pagePath(query, status, more ? cursor : null)).then((page) => {
      if (ticket !== latest.current) return
      setProblem('')
      setItems((shown) => (more ? [...(shown || []), ...page.items] : page.items))
      setCursor(page.next_cursor)
      loadPosters(page.items)
    }).catch((e) => { if (ticket === latest.current) setProblem(e.message) })
  }

  useEffect(() => {
    const timer = setTimeout(() => load(false), query ? 150 : 0)
    return () => clearTimeout(timer)
  }, [query, status]) // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <section>
      <form className="search" role="search" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="library-search">Search</label>
        <input id="library-search" type="search" data-testid="library-search"
          placeholder='words, "a phrase", -not' value={query} autoComplete="off"
          onChange={(e) => setQuery(e.target.value)} />
        <label htmlFor="library-status">Status</label>
        <select id="library-status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">any</option>
          {['ready', 'processing', 'failed'].map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </form>
      {problem && <p className="problem" role="alert">{problem}</p>}
      {!items && !problem && <p className="muted">Loading…</p>}
      {items && items.length === 0 && (
        <p className="muted" data-testid="library-empty">
          {query || status ? 'Nothing matches.' : 'No assets yet. Upload one.'}
        </p>
      )}
      {items && items.length > 0 && (
        <ul className="library" data-testid="library">
          {items.map((a) => (
            <li key={a.id} className="card" data-testid="library-item" data-status={a.status}>
              {posters[a.id] ? <img src={posters[a.id]} alt="" /> : <div className="noposter" />}
              <a href={`/watch/${a.id}`}><strong>{a.title || a.id}</strong></a>
              <span>{a.status}{a.duration ? ` · ${a.duration.toFixed(1)} s` : ''}</span>
              {a.tags && a.tags.length > 0 && <span className="muted">{a.tags.join(' · ')}</span>}
              <span className="muted">
                {a.renditions.filter((r) => r.kind === 'video').map((r) => `${r.height}p`).join(' · ')}
              </span>
            </li>
          ))}
        </ul>
      )}
      {cursor && <button type="button" data-testid="library-more" onClick={() => load(true)}>More</button>}
    </section>
  )
}
