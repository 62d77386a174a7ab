import { useCallback, useEffect, useRef, useState } from 'react'
import { api } from './api.js'
import { STATUS_WORDS } from './assetStatus.jsx'
import CopyField from './CopyField.jsx'
import { failureWords } from './errorWords.js'
import ShareBox from './ShareBox.jsx'

// One asset: its details (editable), the workflow's stages live from the event stream
// (GET /api/v1/assets/{id}/events/stream, Server-Sent Events, signed in by the session
// cookie), why it failed with Retry / Delete, its renditions with their measured rates and
// VMAF, signed HLS and DASH URLs, a share link with its embed code (ShareBox), and a link
// to watch it. The stream is closed once the asset is ready or failed, and opened again on
// Retry.

const STAGES = [
  ['ingest', 'Ingest'],
  ['process', 'Process'],
  ['quality', 'Quality check'],
  ['publish', 'Publish'],
]
const STAGE_WORDS = {
  pending: 'waiting', running: 'running', succeeded: 'done', failed: 'failed', skipped: 'skipped',
}
const CODECS = { avc1: 'H.264', avc3: 'H.264', hvc1: 'H.265', hev1: 'H.265', av01: 'AV1', mp4a: 'AAC', wvtt: 'WebVTT' }

const rate = (bps) => {
  if (!bps) return '—'
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} Mb/s` : `${Math.round(bps / 1e3)} kb/s`
}
const size = (bytes) => {
  if (!bytes && bytes !== 0) return '—'
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.round(bytes / 1e3)} kB`
}
const codecName = (codecs) => {
  if (!codecs) return '—'
  const name = CODECS[codecs.split('.')[0]]
  return name ? `${name} (${codecs})` : codecs
}

const FINISHED = new Set(['ready', 'failed'])  // the server ends the stream on these too

// The asset's live state from the stream; the asset document is asked again whenever the
// status changes (renditions, quality and URLs arrive with `ready`). The stream is closed
// once the asset is ready or failed (nothing more comes); `generation` changing (a Retry)
// opens a new one.
function useLiveState(assetId, onStatus, generation) {
  const [live, setLive] = useState(null)
  const [connection, setConnection] = useState('connecting')
  const latest = useRef(onStatus)
  latest.current = onStatus
  useEffect(() => {
    const source = new EventSource(`/api/v1/assets/${assetId}/events/stream`)
    let status = null
    setConnection('connecting')
    source.addEventListener('open', () => setConnection('live'))
    source.addEventListener('state', (message) => {
      const state = JSON.parse(message.data)
      setLive(state)
      if (state.status !== status) {
        const first = status === null
        status = state.status
        latest.current(state, first)
      }
      if (FINISHED.has(state.status)) {
        source.close()
        setConnection('finished')
      }
    })
    source.addEventListener('error', () => {
      if (status !== null && FINISHED.has(status)) return
      setConnection(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting')
    })
    return () => source.close()
  }, [assetId, generation])
  return { live, connection }
}

function Details({ asset, canEdit, onSaved }) {
  const [title, setTitle] = useState(asset.title || '')
  const [description, setDescription] = useState(asset.description || '')
  const [tags, setTags] = useState((asset.tags || []).join(', '))
  const [note, setNote] = useState('')
  const [busy, setBusy] = useState(false)
  const save = (e) => {
    e.preventDefault()
    setBusy(true)
    setNote('')
    const body = {
      title: title.trim() || null,
      description: description.trim() || null,
      tags: tags.split(',').map((t) => t.trim()).filter(Boolean),
    }
    if (!body.title) delete body.title
    api(`/api/v1/assets/${asset.id}`, { method: 'PATCH', body })
      .then((saved) => { onSaved(saved); setNote('Saved.') })
      .catch((err) => setNote(err.message))
      .finally(() => setBusy(false))
  }
  return (
    <form className="details" onSubmit={save} aria-labelledby="details-heading">
      <h3 id="details-heading">Details</h3>
      <label htmlFor="asset-title">Title</label>
      <input id="asset-title" value={title} readOnly={!canEdit} onChange={(e) => setTitle(e.target.value)} />
      <label htmlFor="asset-description">Description</label>
      <textarea id="asset-description" rows={3} value={description} readOnly={!canEdit}
        onChange={(e) => setDescription(e.target.value)} />
      <label htmlFor="asset-tags">Tags (separated by commas)</label>
      <input id="asset-tags" value={tags} readOnly={!canEdit} onChange={(e) => setTags(e.target.value)} />
      {canEdit && (
        <div className="card-actions">
          <button type="submit" disabled={busy} data-testid="save-details">Save details</button>
          <span role="status" data-testid="details-note">{note}</span>
        </div>
      )}
    </form>
  )
}

function Timeline({ live }) {
  const stages = live?.stages || {}
  return (
    <ol className="timeline-steps" aria-label="Processing steps">
      {STAGES.map(([key, label]) => {
        const status = stages[key] || 'pending'
        const current = live?.stage === key && status === 'running'
        return (
          <li key={key} className={`stage stage-${status}`} data-testid={`stage-${key}`}
            aria-current={current ? 'step' : undefined}>
            <strong>{label}</strong> <span className="muted">{STAGE_WORDS[status]}</span>
            {key === 'process' && live && (status === 'running' || live.stage === 'process') && (
              <div className="stage-progress">
                <progress max={100} value={live.percent} aria-label="Processing progress" />
                {' '}<span data-testid="process-percent">{live.percent} %</span>
                {live.activity && <span className="muted" data-testid="activity"> · {live.activity}</span>}
              </div>
            )}
            {key !== 'process' && current && live.activity && (
              <span className="muted"> · {live.activity}</span>
            )}
          </li>
        )
      })}
    </ol>
  )
}

function Failure({ asset, live, allowed, onRetry, onDelete }) {
  const [busy, setBusy] = useState(false)
  const [confirming, setConfirming] = useState(false)
  const [problem, setProblem] = useState('')
  const code = live?.error_code || asset.error?.code
  const message = live?.error_message || asset.error?.message
  const act = (action) => {
    setBusy(true)
    setProblem('')
    action().catch((e) => setProblem(e.message)).finally(() => setBusy(false))
  }
  return (
    <section className="failure-box" aria-labelledby="failure-heading" data-testid="failure">
      <h3 id="failure-heading">Why it failed</h3>
      <p data-testid="failure-reason">{failureWords(code, message)}</p>
      <p className="muted">
        {message} (<code data-testid="failure-code">{code || 'unknown'}</code>
        {asset.error?.step ? `, in the ${asset.error.step} step` : ''})
      </p>
      <div className="card-actions">
        {allowed['assets:Retry'] && (
          <button type="button" data-testid="retry" disabled={busy} onClick={() => act(onRetry)}>Retry</button>
        )}
        {allowed['assets:Delete'] && !confirming && (
          <button type="button" data-testid="delete" disabled={busy} onClick={() => setConfirming(true)}>Delete</button>
        )}
        {confirming && (
          <>
            <button type="button" className="danger" data-testid="confirm-delete" disabled={busy}
              onClick={() => act(onDelete)}>Delete for good</button>
            <button type="button" onClick={() => setConfirming(false)}>Keep it</button>
          </>
        )}
      </div>
      {problem && <p className="problem" role="alert">{problem}</p>}
    </section>
  )
}

function Renditions({ asset }) {
  const scores = Object.fromEntries((asset.quality?.rungs || []).map((r) => [r.name, r]))
  if (!asset.renditions?.length) return null
  return (
    <section aria-labelledby="renditions-heading">
      <h3 id="renditions-heading">Renditions</h3>
      <table className="grid-table" data-testid="renditions">
        <thead>
          <tr>
            <th scope="col">Rendition</th><th scope="col">Codec</th><th scope="col">Resolution</th>
            <th scope="col">Average bitrate</th><th scope="col">Peak bitrate</th>
            <th scope="col">Size</th><th scope="col">VMAF</th>
          </tr>
        </thead>
        <tbody>
          {asset.renditions.map((r) => {
            const vmaf = scores[r.name]?.vmaf
            return (
              <tr key={r.name}>
                <th scope="row">{r.name}</th>
                <td>{codecName(r.codecs)}</td>
                <td>{r.width && r.height ? `${r.width}×${r.height}` : '—'}</td>
                <td>{rate(r.average_bitrate)}</td>
                <td>{rate(r.peak_bitrate)}</td>
                <td>{size(r.bytes)}</td>
                <td data-testid={r.kind === 'video' ? 'vmaf' : undefined}>
                  {vmaf === null || vmaf === undefined ? '—' : vmaf.toFixed(1)}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      {Object.entries(asset.ladder?.left_out || {}).map(([family, why]) => (
        <p className="muted" data-testid="left-out" key={family}>
          {`Not encoded: ${why}.`}
        </p>
      ))}
    </section>
  )
}

function PlaybackUrls({ assetId }) {
  const [urls, setUrls] = useState(null)
  const [problem, setProblem] = useState('')
  useEffect(() => {
    api(`/api/v1/assets/${assetId}/playback`).then(setUrls).catch((e) => setProblem(e.message))
  }, [assetId])
  return (
    <section aria-labelledby="urls-heading">
      <h3 id="urls-heading">Playback URLs</h3>
      {problem && <p className="problem">{problem}</p>}
      {urls && (
        <>
          <CopyField id="hls-url" label="HLS URL" value={urls.hls_url || ''} />
          {urls.dash_url && <CopyField id="dash-url" label="DASH URL" value={urls.dash_url} />}
          <p className="muted">
            Signed: valid until {new Date(urls.expires_at * 1000).toLocaleString()}.
          </p>
        </>
      )}
    </section>
  )
}

// The asset document, asked again on every status change of the live stream, which also
// gives `announcement` (a status change in words, for screen readers) and `live`; `retry`
// asks for a new live stream too.
function useAsset(assetId) {
  const [asset, setAsset] = useState(null)
  const [problem, setProblem] = useState('')
  const [announcement, setAnnouncement] = useState('')
  const load = useCallback(
    () => api(`/api/v1/assets/${assetId}`).then(setAsset).catch((e) => setProblem(e.message)),
    [assetId],
  )
  useEffect(() => { load() }, [load])
  const onStatus = useCallback((state, first) => {
    const words = STATUS_WORDS[state.status] || state.status
    if (!first) {
      const reason = state.status === 'failed' ? `: ${failureWords(state.error_code, state.error_message)}` : ''
      setAnnouncement(`Status: ${words}${reason}`)
    }
    load()
  }, [load])
  const [generation, setGeneration] = useState(0)  // a new live stream after each Retry
  const { live, connection } = useLiveState(assetId, onStatus, generation)
  const retry = () => api(`/api/v1/assets/${assetId}/retry`, { method: 'POST' })
    .then(() => { setGeneration((g) => g + 1); return load() })
  return { asset, setAsset, problem, announcement, live, connection, retry }
}

// The status line: the status, whether live updates flow, and a Watch link once ready.
function StatusLine({ assetId, status, connection }) {
  return (
    <p>
      <span data-testid="asset-status">{STATUS_WORDS[status] || status}</span>
      {connection !== 'live' && connection !== 'finished' && (
        <span className="muted"> · live updates {connection}</span>
      )}
      {status === 'ready' && <> · <a href={`/watch/${assetId}`}>Watch</a></>}
    </p>
  )
}

// What a ready asset offers, each as far as the signed-in key may see it.
function ReadyParts({ assetId, asset, allowed }) {
  return (
    <>
      <Renditions asset={asset} />
      {allowed['playback:Get'] !== false && <PlaybackUrls assetId={assetId} />}
      {allowed['assets:Share'] && <ShareBox assetId={assetId} heading="Share and embed" />}
    </>
  )
}

export default function AssetPage({ assetId, me }) {
  const allowed = me?.allowed || {}
  const { asset, setAsset, problem, announcement, live, connection, retry } = useAsset(assetId)
  useEffect(() => {
    document.title = `${asset?.title || 'Asset'} · details · prime-vod`
  }, [asset?.title])
  const remove = () => api(`/api/v1/assets/${assetId}`, { method: 'DELETE' })
    .then(() => { window.location.assign('/library') })

  const status = live?.status || asset?.status
  return (
    <section className="asset-page" aria-labelledby="asset-heading">
      <h2 id="asset-heading">{asset?.title || (problem ? 'Asset' : 'Loading…')}</h2>
      <p className="visually-hidden" aria-live="polite" role="status" data-testid="announcer">{announcement}</p>
      {problem && <p className="problem" role="alert">{problem}</p>}
      {asset && (
        <>
          <StatusLine assetId={assetId} status={status} connection={connection} />
          <Timeline live={live} />
          {status === 'failed' && (
            <Failure asset={asset} live={live} allowed={allowed} onRetry={retry} onDelete={remove} />
          )}
          <Details key={asset.id} asset={asset} canEdit={!!allowed['assets:Update']} onSaved={setAsset} />
          {status === 'ready' && asset.status === 'ready' && <ReadyParts assetId={assetId} asset={asset} allowed={allowed} />}
        </>
      )}
    </section>
  )
}
