// Playback quality of experience: what one viewing session of /watch/{id} was like, as the
// events of core/qoe.py, sent in batches to POST /api/v1/beacons with the signed playback URL
// the page was given (the server accepts a beacon only for the asset that URL covers).
// Batches go every FLUSH_MS with a heartbeat, and once more with `end` when the page hides
// (navigator.sendBeacon: it survives the page going away).

const FLUSH_MS = 10000
const BEACONS = '/api/v1/beacons'
const MAX_EVENTS = 100

function sessionId() {
  if (window.crypto?.randomUUID) return window.crypto.randomUUID()
  return `s${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}`
}

// watched: the seconds of the title the playhead went through (the media element's own
// `played` ranges), so a slow event loop, seeks or a level switch do not skew it
function watchedSeconds(video) {
  let total = 0
  for (let i = 0; i < video.played.length; i += 1) total += video.played.end(i) - video.played.start(i)
  return total
}

// One batch to the server; the last one of a page that goes away with sendBeacon.
function send(payload, last) {
  if (last && navigator.sendBeacon) {
    navigator.sendBeacon(BEACONS, new Blob([payload], { type: 'text/plain' }))
    return
  }
  fetch(BEACONS, { method: 'POST', body: payload, keepalive: true, headers: { 'Content-Type': 'text/plain' } })
    .catch(() => {})
}

// The <video> listeners that `push` the startup time (from `at`, ms since the session began)
// and each stall's length; a wait while seeking is not a stall.
function stallListeners(push, at) {
  let started = false
  let stalledAt = null
  let seeking = false
  const onPlaying = () => {
    if (!started) {
      started = true
      push({ type: 'startup', value: at() })
    } else if (stalledAt !== null) {
      push({ type: 'rebuffer', value: Math.round(performance.now() - stalledAt) })
    }
    stalledAt = null
  }
  const onWaiting = () => { if (started && !seeking && stalledAt === null) stalledAt = performance.now() }
  const onSeeking = () => { seeking = true; stalledAt = null }
  const onSeeked = () => { seeking = false }
  return [['playing', onPlaying], ['waiting', onWaiting], ['seeking', onSeeking], ['seeked', onSeeked]]
}

export function startQoe({ video, assetId, playback, player, flushMs = FLUSH_MS }) {
  const session = sessionId()
  const began = performance.now()
  let queue = []
  let ended = false

  const at = () => Math.round(performance.now() - began)
  const push = (event) => { if (queue.length < MAX_EVENTS) queue.push({ t: at(), ...event }) }
  const dropped = () => video.getVideoPlaybackQuality?.().droppedVideoFrames ?? undefined

  // `playback` may be a function: the player's newest grant (the first one's signature expires)
  const signedUrl = () => (typeof playback === 'function' ? playback() : playback)
  const body = () => JSON.stringify({ asset_id: assetId, session_id: session, player, playback: signedUrl(), events: queue })
  const flush = (last) => {
    push({ type: last ? 'end' : 'heartbeat', value: Math.round(watchedSeconds(video) * 1000) / 1000, dropped_frames: dropped() })
    const payload = body()
    queue = []
    send(payload, last)
  }

  const onHide = () => { if (document.visibilityState === 'hidden') finish() }
  const listeners = [...stallListeners(push, at), ['ended', () => finish()]]
  listeners.forEach(([name, fn]) => video.addEventListener(name, fn))
  const onPageHide = () => finish()
  document.addEventListener('visibilitychange', onHide)
  window.addEventListener('pagehide', onPageHide)
  const timer = setInterval(() => flush(false), flushMs)

  function finish() {
    if (ended) return
    ended = true
    clearInterval(timer)
    flush(true)
  }

  return {
    switched: (bitrate, height) => push({ type: 'switch', bitrate: Math.round(bitrate || 0), height: height || 0 }),
    error: (code, fatal) => push({ type: 'error', code: String(code || 'unknown').slice(0, 64), fatal: Boolean(fatal) }),
    stop: () => {
      finish()
      listeners.forEach(([name, fn]) => video.removeEventListener(name, fn))
      document.removeEventListener('visibilitychange', onHide)
      window.removeEventListener('pagehide', onPageHide)
    },
  }
}
