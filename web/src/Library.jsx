import { useEffect, useRef, useState } from 'react'
import { api } from './api.js'
import { CreatedAt, WORKING, percentOf, statusText, useVisiblePolling } from './assetStatus.jsx'

const PAGE = 24
const ORDERS = [
  { value: 'desc', label: 'Newest first' },
  { value: 'asc', label: 'Oldest first' },
]

// The request for one page: the library by date, or the search's best matches.
function pagePath(query, status, order, cursor) {
  const params = new URLSearchParams({ limit: String(PAGE) })
  if (status) params.set('status', status)
  if (cursor) params.set('cursor', cursor)
  if (query.trim()) {
    params.set('q', query.trim())
    return `/api/v1/search?${params}`
  }
  params.set('order', order)
  return `/api/v1/assets?${params}`
}

function initialOrder() {
  const asked = new URLSearchParams(window.location.search).get('order')
  return ORDERS.some((o) => o.value === asked) ? asked : 'desc'
}

// What may the signed-in key do (WhoAmI's `allowed`)? Nothing until the server says.
function useAllowed() {
  const [allowed, setAllowed] = useState({})
  useEffect(() => {
    api('/api/v1/session').then((who) => setAllowed(who.allowed || {})).catch(() => setAllowed({}))
  }, [])
  return allowed
}

// A failure's code in words a person can act on; the server's message says the detail.
function failureWords(code) {
  if (!code) return 'Processing failed.'
  if (code === 'budget.exceeded') return 'Refused: the job would take the month past its budget.'
  if (code.startsWith('source.')) return 'The file could not be used.'
  if (code.startsWith('encode.')) return 'Encoding failed.'
  if (code.startsWith('quality.')) return 'The encode did not reach its quality target.'
  if (code.startsWith('package.')) return 'The encoded package failed its checks.'
  return 'Processing stopped.'
}

function Failure({ asset, allowed, onRetry, onDelete }) {
  const [busy, setBusy] = useState(false)
  const [confirming, setConfirming] = useState(false)
  const [problem, setProblem] = useState('')
  const act = (action) => {
    setBusy(true)
    setProblem('')
    action().catch((e) => setProblem(e.message)).finally(() => setBusy(false))
  }
  const error = asset.error || {}
  return (
    <div className="failure" data-testid="failure">
      <p className="reason" data-testid="failure-reason">
        {failureWords(error.code)} {error.message}
        {' '}(<code data-testid="failure-code">{error.code || 'unknown'}</code>
        {error.step ? `, in ${error.step}` : ''})
      </p>
      <div className="card-actions">
        {allowed['assets:Retry'] && (
          <button type="button" data-testid="retry" disabled={busy} onClick={() => act(onRetry)}>
            Retry
          </button>
        )}
        {allowed['assets:Delete'] && !confirming && (
          <button type="button" data-testid="delete" disabled={busy} onClick={() => setConfirming(true)}>
            Delete
          </button>
        )}
        {confirming && (
          <>
            <button type="button" className="danger" data-testid="delete-confirm" disabled={busy}
              onClick={() => act(onDelete)}>
              Delete for good
            </button>
            <button type="button" disabled={busy} onClick={() => setConfirming(false)}>Keep</button>
          </>
        )}
      </div>
      {problem && <p className="problem" role="alert">{problem}</p>}
    </div>
  )
}

function Card({ asset, poster, allowed, onRetry, onDelete }) {
  const working = WORKING.has(asset.status)
  const rungs = (asset.renditions || []).filter((r) => r.kind === 'video').map((r) => `${r.height}p`)
  return (
    <li className="card" data-testid="library-item" data-status={asset.status} data-id={asset.id}>
      {poster ? <img src={poster} alt="" /> : <div className="noposter" />}
      <a href={`/assets/${asset.id}`} data-testid="asset-link"><strong>{asset.title || asset.id}</strong></a>
      <CreatedAt iso={asset.created_at} />
      <span data-testid="card-status">
        {statusText(asset)}{asset.duration ? ` · ${asset.duration.toFixed(1)} s` : ''}
      </span>
      {working && (
        <progress max="100" value={asset.status === 'processing' ? percentOf(asset) : undefined}
          aria-label={`${asset.title || asset.id}: ${statusText(asset)}`} />
      )}
      {asset.tags && asset.tags.length > 0 && <span className="muted">{asset.tags.join(' · ')}</span>}
      {rungs.length > 0 && <span className="muted">{rungs.join(' · ')}</span>}
      {asset.status === 'ready' && <a href={`/watch/${asset.id}`} data-testid="watch-link">Watch</a>}
      {asset.status === 'failed' && (
        <Failure asset={asset} allowed={allowed} onRetry={onRetry} onDelete={onDelete} />
      )}
    </li>
  )
}

// The sort order, kept in the page's address (?order=) so a reload or a shared link keeps it.
function useOrder() {
  const [order, setOrder] = useState(initialOrder)
  const chooseOrder = (value) => {
    setOrder(value)
    const url = new URL(window.location.href)
    url.searchParams.set('order', value)
    window.history.replaceState(null, '', url)
  }
  return [order, chooseOrder]
}

// The poster of each ready asset, by id, and a way to ask for the posters of more assets.
function usePosters() {
  const [posters, setPosters] = useState({})
  const loadPosters = (assets) => assets.filter((a) => a.status === 'ready').forEach((a) => {
    api(`/api/v1/assets/${a.id}/playback`)
      .then((links) => setPosters((p) => ({ ...p, [a.id]: links.poster_url })))
      .catch(() => {})
  })
  return [posters, loadPosters]
}

// The assets shown: the first page again whenever the query, status or order changes (a
// query after a short pause in the typing), more pages on `loadMore`.
function useLibraryPages({ query, status, order, loadPosters }) {
  const [items, setItems] = useState(null)
  const [cursor, setCursor] = useState(null)
  const [problem, setProblem] = useState('')
  const latest = useRef(0)

  const load = (more) => {
    const ticket = ++latest.current // a slower answer to an older query is dropped
    api(pagePath(query, status, order, more ? cursor : null)).then((page) => {
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
  }, [query, status, order]) // eslint-disable-line react-hooks/exhaustive-deps

  return { items, setItems, cursor, problem, loadMore: () => load(true) }
}

// Keeps the cards still on their way fresh (only those are asked about again), announces
// each status change in `setNews`, and `replace`s a card with a fresher copy.
function useWorkingCards({ items, setItems, setNews, loadPosters }) {
  const replace = (fresh) => setItems((shown) => shown && shown.map((a) => (a.id === fresh.id ? fresh : a)))
  const working = (items || []).filter((a) => WORKING.has(a.status))
  const refresh = () => Promise.all(working.map((a) => api(`/api/v1/assets/${a.id}`).then((fresh) => {
    if (fresh.status !== a.status) {
      setNews(`${fresh.title || fresh.id}: ${statusText(fresh)}`)
      if (fresh.status === 'ready') loadPosters([fresh])
    }
    replace(fresh)
  }).catch(() => {})))
  useVisiblePolling(refresh, working.length > 0, 2000)
  return replace
}

// A failed card's Retry and Delete: each a function of the asset, giving the card's action.
function cardActions({ replace, setItems, setNews }) {
  const retry = (asset) => () => api(`/api/v1/assets/${asset.id}/retry`, { method: 'POST' }).then(() => {
    replace({ ...asset, status: 'ingesting', progress: 0, error: null })
    setNews(`${asset.title || asset.id}: retrying`)
  })
  const remove = (asset) => () => api(`/api/v1/assets/${asset.id}`, { method: 'DELETE' }).then(() => {
    setItems((shown) => shown.filter((a) => a.id !== asset.id))
    setNews(`${asset.title || asset.id}: deleted`)
  })
  return { retry, remove }
}

function SearchForm({ query, onQuery, status, onStatus, order, onOrder }) {
  const searching = Boolean(query.trim())
  return (
    <form className="search" role="search" onSubmit={(e) => e.preventDefault()}>
      <label htmlFor="library-search">Search</label>
      <input id="library-search" type="search" data-testid="library-search"
        placeholder='words, "a phrase", -not' value={query} autoComplete="off"
        onChange={(e) => onQuery(e.target.value)} />
      <label htmlFor="library-status">Status</label>
      <select id="library-status" value={status} onChange={(e) => onStatus(e.target.value)}>
        <option value="">any</option>
        {['ready', 'processing', 'failed'].map((s) => <option key={s} value={s}>{s}</option>)}
      </select>
      <label htmlFor="library-order">Sort</label>
      <select id="library-order" data-testid="library-order" value={searching ? 'best' : order}
        disabled={searching} onChange={(e) => onOrder(e.target.value)}>
        {searching && <option value="best">Best match</option>}
        {ORDERS.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
    </form>
  )
}

// The cards, or why there are none yet (`filtered`: a search or a status is applied).
function Cards({ items, problem, filtered, posters, allowed, actions }) {
  if (!items) return problem ? null : <p className="muted">Loading…</p>
  if (items.length === 0) {
    return (
      <p className="muted" data-testid="library-empty">
        {filtered ? 'Nothing matches.' : 'No assets yet. Upload one.'}
      </p>
    )
  }
  return (
    <ul className="library" data-testid="library">
      {items.map((a) => (
        <Card key={a.id} asset={a} poster={posters[a.id]} allowed={allowed}
          onRetry={actions.retry(a)} onDelete={actions.remove(a)} />
      ))}
    </ul>
  )
}

// /library: the assets with their posters and creation dates, newest or oldest first,
// searched as you type (title, description, tags, metadata, probe facts), a page at a time;
// cards still being processed refresh themselves, failed ones say why and offer Retry.
export default function Library() {
  const [query, setQuery] = useState('')
  const [status, setStatus] = useState('')
  const [order, chooseOrder] = useOrder()
  const [news, setNews] = useState('')
  const allowed = useAllowed()
  const [posters, loadPosters] = usePosters()
  const { items, setItems, cursor, problem, loadMore } = useLibraryPages({ query, status, order, loadPosters })
  const replace = useWorkingCards({ items, setItems, setNews, loadPosters })
  const actions = cardActions({ replace, setItems, setNews })

  return (
    <section>
      <SearchForm query={query} onQuery={setQuery} status={status} onStatus={setStatus}
        order={order} onOrder={chooseOrder} />
      <p className="visually-hidden" role="status" aria-live="polite" data-testid="library-news">{news}</p>
      {problem && <p className="problem" role="alert">{problem}</p>}
      <Cards items={items} problem={problem} filtered={Boolean(query || status)} posters={posters}
        allowed={allowed} actions={actions} />
      {cursor && <button type="button" data-testid="library-more" onClick={loadMore}>More</button>}
    </section>
  )
}
