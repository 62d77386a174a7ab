import { useCallback, useEffect, useRef, useState } from 'react'
import { api } from './api.js'
import { CreatedAt, WORKING, statusText, useVisiblePolling } from './assetStatus.jsx'

const LIMIT = 10

const UPLOAD_WORDS = { open: 'Uploading', aborted: 'Upload cancelled', expired: 'Upload expired' }

// where an upload stands: its asset's status once it completed, else the upload's own
function standing(item) {
  if (item.asset) return { status: item.asset.status, text: statusText(item.asset) }
  if (item.status === 'completed') return { status: 'gone', text: 'Deleted' }
  return { status: `upload-${item.status}`, text: UPLOAD_WORDS[item.status] || item.status }
}

function Row({ item }) {
  const { status, text } = standing(item)
  const error = item.asset?.error
  return (
    <li className={`asset asset-${status}`} data-testid="asset" data-status={status}
      data-filename={item.filename} data-asset-id={item.asset_id}>
      <span className="name">{item.asset?.title || item.filename}</span>
      <CreatedAt iso={item.created_at} />
      <span className="status">{text}</span>
      {item.asset && <a href={`/assets/${item.asset_id}`} data-testid="asset-link">Details</a>}
      {status === 'ready' && <a href={`/watch/${item.asset_id}`} data-testid="watch-link">Watch</a>}
      {status === 'failed' && error && (
        <span className="error">{error.message} ({error.code})</span>
      )}
    </li>
  )
}

// Announces (in `news`) each upload whose status text changed since it was last shown.
function useStatusNews() {
  const [news, setNews] = useState('')
  const seen = useRef(new Map()) // upload id -> the status last shown
  const announce = useCallback((list) => {
    const changes = []
    for (const item of list) {
      const { text } = standing(item)
      const before = seen.current.get(item.upload_id)
      if (before !== undefined && before !== text) changes.push(`${item.asset?.title || item.filename}: ${text}`)
      seen.current.set(item.upload_id, text)
    }
    if (changes.length) setNews(changes.join('. '))
  }, [])
  return [news, announce]
}

// The uploads shown: the first page (again whenever `fresh` changes, and on `refresh`) and
// the older pages loaded with `more`, each page passed to `announce`.
function useUploadPages(fresh, announce) {
  const [items, setItems] = useState(null)
  const [cursor, setCursor] = useState(null)
  const [problem, setProblem] = useState('')
  const pagedOn = useRef(false) // older pages shown: their cursor is the one to follow

  // the first page again (what changed, what is new); pages loaded with More stay
  const refresh = useCallback(() => api(`/api/v1/uploads?limit=${LIMIT}`).then((page) => {
    setProblem('')
    announce(page.items)
    setItems((shown) => {
      const first = new Set(page.items.map((i) => i.upload_id))
      const older = pagedOn.current ? (shown || []).filter((i) => !first.has(i.upload_id)) : []
      return [...page.items, ...older]
    })
    if (!pagedOn.current) setCursor(page.next_cursor)
  }).catch((e) => setProblem(e.message)), [announce])

  useEffect(() => { refresh() }, [fresh]) // eslint-disable-line react-hooks/exhaustive-deps

  const more = () => api(`/api/v1/uploads?limit=${LIMIT}&cursor=${encodeURIComponent(cursor)}`)
    .then((page) => {
      pagedOn.current = true
      announce(page.items)
      setItems((shown) => [...(shown || []), ...page.items])
      setCursor(page.next_cursor)
    }).catch((e) => setProblem(e.message))
  return { items, cursor, problem, refresh, more }
}

// The caller's recent uploads and what became of them, from the server (GET /api/v1/uploads),
// so a reload shows them again. `fresh` changes whenever this page finishes an upload.
// Status changes are announced to screen readers.
export default function RecentUploads({ fresh }) {
  const [news, announce] = useStatusNews()
  const { items, cursor, problem, refresh, more } = useUploadPages(fresh, announce)
  const working = (items || []).some((i) => i.asset && WORKING.has(i.asset.status))
  useVisiblePolling(refresh, working, 2000)

  return (
    <section className="recent-uploads" aria-labelledby="recent-uploads-title">
      <h2 id="recent-uploads-title">Your uploads</h2>
      <p className="visually-hidden" role="status" aria-live="polite" data-testid="uploads-news">{news}</p>
      {problem && <p className="problem" role="alert">{problem}</p>}
      {items && items.length === 0 && (
        <p className="muted" data-testid="uploads-empty">Uploaded files appear here while they are processed.</p>
      )}
      {items && items.length > 0 && (
        <ul className="assets" data-testid="recent-uploads">
          {items.map((item) => <Row key={item.upload_id} item={item} />)}
        </ul>
      )}
      {cursor && <button type="button" data-testid="uploads-more" onClick={more}>Older uploads</button>}
    </section>
  )
}
