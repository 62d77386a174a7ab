import { useCallback, useEffect, useRef, useState } from 'react'
import Hls from 'hls.js'
import * as dashjs from 'dashjs'
import TrackMenus from './TrackMenus.jsx'
import { cueAt, parseStoryboard } from './storyboard.js'
import { startQoe } from './qoe.js'
import { fetchGrant, grantKeeper } from './playbackGrant.js'

const kbps = (bps) => `${Math.round(bps / 1000)} kb/s`
const SEEK_STEP = 5 // seconds per arrow key on the timeline
const PREVIEW_MS = 1500 // how long a keyboard seek's preview stays
const EXPIRED = 'The playback link stopped working and could not be renewed. Reload the page to try again.'

export const clock = (seconds) => {
  if (!Number.isFinite(seconds) || seconds < 0) return '0:00'
  const s = Math.floor(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const rest = String(s % 60).padStart(2, '0')
  return h ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`
}

const heightOf = (level) => (level?.height ? `${level.height}p` : '')

// A hls.js load policy whose error retries include one after a 403: the keeper renews the
// grant and the retry (re-signed in xhrSetup, which waits for the renewal) goes through.
function renewingPolicy(policy, keeper) {
  const base = policy.default
  const errorRetry = base.errorRetry || { maxNumRetry: 1, retryDelayMs: 500, maxRetryDelayMs: 1000 }
  const shouldRetry = (config, count, timeout, response, retry) => {
    if (response?.code === 403) return count < 1 && keeper.forbidden()
    return retry
  }
  return { default: { ...base, errorRetry: { ...errorRetry, shouldRetry } } }
}

function startHls({ video, keeper, resume, qoe, on }) {
  const hls = new Hls({
    startPosition: resume.time > 0 ? resume.time : -1,
    maxMaxBufferLength: 30, // 30 s ahead at most, however small the rendition: a viewer who stops early costs less egress
    xhrSetup: async (xhr, url) => {
      await keeper.ready()
      xhr.open('GET', keeper.resign(url), true)
      xhr.withCredentials = true // the signed cookies, where the edge is another origin's CDN
    },
    manifestLoadPolicy: renewingPolicy(Hls.DefaultConfig.manifestLoadPolicy, keeper),
    playlistLoadPolicy: renewingPolicy(Hls.DefaultConfig.playlistLoadPolicy, keeper),
    fragLoadPolicy: renewingPolicy(Hls.DefaultConfig.fragLoadPolicy, keeper),
  })
  hls.on(Hls.Events.MANIFEST_PARSED, (_, data) => {
    on.levels(data.levels.map((l, i) => ({ index: i, height: l.height, bitrate: l.bitrate })))
    if (resume.playing) video.play().catch(() => {})
  })
  hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => {
    const switched = hls.levels[data.level]
    qoe.switched(switched?.bitrate, switched?.height)
    on.active({ index: data.level, height: switched?.height, bitrate: switched?.bitrate })
  })
  hls.on(Hls.Events.ERROR, (_, data) => {
    qoe.error(data.details, data.fatal)
    if (!data.fatal) return
    if (data.response?.code === 403) on.problem(EXPIRED)
    else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError()
    else on.problem(`Playback error (${data.details})`)
  })
  hls.loadSource(keeper.resign(keeper.current().hls_url))
  hls.attachMedia(video)
  return { engine: { kind: 'hls', hls }, stop: () => hls.destroy() }
}

function startDash({ video, keeper, resume, qoe, on }) {
  const player = dashjs.MediaPlayer().create()
  const events = dashjs.MediaPlayer.events
  player.addRequestInterceptor(async (request) => {
    await keeper.ready()
    request.url = keeper.resign(request.url)
    return request
  })
  player.addResponseInterceptor(async (response) => {
    if (response?.status === 403) keeper.forbidden() // dash.js retries; the retry is re-signed
    return response
  })
  const listVideo = () => {
    const list = player.getRepresentationsByType('video') || []
    on.levels(list.map((r, i) => ({ index: i, height: r.height, bitrate: r.bandwidth })))
  }
  player.on(events.STREAM_INITIALIZED, listVideo)
  player.on(events.QUALITY_CHANGE_RENDERED, (e) => {
    if (e.mediaType !== 'video') return
    const rep = e.newRepresentation || player.getCurrentRepresentationForType('video')
    qoe.switched(rep?.bandwidth, rep?.height)
    const list = player.getRepresentationsByType('video') || []
    on.active({ index: list.findIndex((r) => r.id === rep?.id), height: rep?.height, bitrate: rep?.bandwidth })
  })
  player.on(events.ERROR, (e) => {
    const status = e?.error?.data?.response?.status || e?.error?.code
    qoe.error(e?.error?.code || 'DASH', true)
    on.problem(status === 403 ? EXPIRED : `Playback error (${e?.error?.message || 'DASH'})`)
  })
  const start = resume.time > 0 ? resume.time : undefined
  player.initialize(video, keeper.resign(keeper.current().dash_url), resume.playing, start)
  return { engine: { kind: 'dash', player }, stop: () => player.destroy() }
}

function useFullscreen(frameRef) {
  const [full, setFull] = useState(false)
  useEffect(() => {
    const onChange = () => setFull(document.fullscreenElement === frameRef.current)
    document.addEventListener('fullscreenchange', onChange)
    return () => document.removeEventListener('fullscreenchange', onChange)
  }, [frameRef])
  const toggle = () => {
    if (document.fullscreenElement) document.exitFullscreen?.().catch(() => {})
    else frameRef.current?.requestFullscreen?.().catch(() => {})
  }
  return [full, toggle]
}

// The player of /watch/{id} (signed in, or with a share link's `token`) and /embed/{id}
// (`bare`: no title, fills its frame). HLS with hls.js or DASH with dash.js, its own controls
// (one timeline with thumbnail and time previews), quality, caption and audio menus.
export default function Player({ assetId, token = null, bare = false }) {
  const videoRef = useRef(null)
  const frameRef = useRef(null)
  const keeperRef = useRef(null)
  const engineRef = useRef(null)
  const resumeRef = useRef({ time: 0, playing: true })
  const previewTimer = useRef(null)
  const [grant, setGrant] = useState(null)
  const [format, setFormat] = useState('hls')
  const [engine, setEngine] = useState(null)
  const [levels, setLevels] = useState([])
  const [level, setLevel] = useState(-1)
  const [active, setActive] = useState(null)
  const [problem, setProblem] = useState('')
  const [cues, setCues] = useState([])
  const [preview, setPreview] = useState(null)
  const [time, setTime] = useState({ now: 0, duration: 0 })
  const [playing, setPlaying] = useState(false)
  const [muted, setMuted] = useState(true) // autoplay needs it; the viewer unmutes
  const [volume, setVolume] = useState(1)
  const [renewals, setRenewals] = useState(0)
  const [fullscreen, toggleFullscreen] = useFullscreen(frameRef)

  useEffect(() => {
    const abort = new AbortController()
    setProblem('')
    fetchGrant(assetId, token, abort.signal)
      .then((first) => {
        keeperRef.current = grantKeeper({
          assetId,
          token,
          initial: first,
          onRenewed: () => setRenewals((n) => n + 1),
          onFailed: (error) => { if (error.status === 403 || error.status === 401) setProblem(error.message) },
        })
        setGrant(first)
      })
      .catch((error) => { if (error.name !== 'AbortError') setProblem(error.message) })
    return () => { abort.abort(); keeperRef.current?.stop() }
  }, [assetId, token])

  useEffect(() => {
    if (grant?.title) document.title = `${grant.title} · prime-vod`
  }, [grant])

  useEffect(() => {
    if (!grant?.storyboard_url) return
    fetch(grant.storyboard_url, { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(r.status))))
      .then((text) => setCues(parseStoryboard(text, grant.storyboard_url)))
      .catch(() => setCues([]))
  }, [grant])

  useEffect(() => {
    const video = videoRef.current
    const keeper = keeperRef.current
    if (!grant || !video || !keeper) return undefined
    setLevels([])
    setLevel(-1)
    setActive(null)
    const kind = format === 'dash' ? 'dash' : 'hls'
    const qoe = startQoe({
      video,
      assetId,
      playback: () => keeper.current()[kind === 'dash' ? 'dash_url' : 'hls_url'],
      player: kind === 'dash' ? 'dash.js' : Hls.isSupported() ? 'hls.js' : 'native',
    })
    const on = { levels: setLevels, active: setActive, problem: setProblem }
    const context = { video, keeper, resume: resumeRef.current, qoe, on }
    let started
    if (kind === 'dash') started = startDash(context)
    else if (Hls.isSupported()) started = startHls(context)
    else { // Safari plays HLS natively (and sends the cookies)
      video.src = keeper.current().hls_url
      started = { engine: null, stop: () => video.removeAttribute('src') }
    }
    engineRef.current = started.engine
    setEngine(started.engine)
    return () => {
      qoe.stop()
      started.stop()
      engineRef.current = null
      setEngine(null)
    }
  }, [grant, format, assetId])

  const switchFormat = (next) => {
    if (next === format) return
    const video = videoRef.current
    // the new engine starts where this one was, playing if it played
    resumeRef.current = { time: video?.currentTime || 0, playing: video ? !video.paused : true }
    setFormat(next)
  }

  const chooseLevel = (index) => {
    setLevel(index)
    const current = engineRef.current
    if (current?.kind === 'hls') current.hls.currentLevel = index // flushes: switches now
    if (current?.kind === 'dash') {
      current.player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: index < 0 } } } })
      if (index >= 0) current.player.setRepresentationForTypeByIndex('video', index, true)
    }
  }

  const showPreview = useCallback((at, source) => {
    const duration = videoRef.current?.duration || time.duration
    if (!duration) return
    const bounded = Math.min(Math.max(at, 0), duration)
    setPreview({ at: bounded, fraction: bounded / duration, source })
    clearTimeout(previewTimer.current)
    if (source === 'key') previewTimer.current = setTimeout(() => setPreview(null), PREVIEW_MS)
  }, [time.duration])

  const seek = (to) => {
    const video = videoRef.current
    if (!video || !Number.isFinite(video.duration)) return
    video.currentTime = Math.min(Math.max(to, 0), video.duration)
    setTime({ now: video.currentTime, duration: video.duration })
  }

  const onTimelineKey = (event) => {
    const video = videoRef.current
    if (!video) return
    const targets = {
      ArrowRight: video.currentTime + SEEK_STEP,
      ArrowUp: video.currentTime + SEEK_STEP,
      ArrowLeft: video.currentTime - SEEK_STEP,
      ArrowDown: video.currentTime - SEEK_STEP,
      Home: 0,
      End: video.duration,
    }
    if (!(event.key in targets)) return
    event.preventDefault()
    seek(targets[event.key])
    showPreview(video.currentTime, 'key')
  }

  const onTimelineHover = (event) => {
    const rect = event.currentTarget.getBoundingClientRect()
    const fraction = (event.clientX - rect.left) / rect.width
    showPreview(fraction * (videoRef.current?.duration || time.duration), 'pointer')
  }

  const togglePlay = () => {
    const video = videoRef.current
    if (!video) return
    if (video.paused) video.play().catch(() => {})
    else video.pause()
  }

  const toggleMute = () => {
    const video = videoRef.current
    if (!video) return
    video.muted = !video.muted
  }

  const changeVolume = (value) => {
    const video = videoRef.current
    if (!video) return
    video.volume = value
    video.muted = value === 0
  }

  const duration = time.duration || grant?.duration || 0
  const cue = preview ? cueAt(cues, preview.at) : null
  const resign = (url) => keeperRef.current?.resign(url) || url
  const activeLabel = active ? `${heightOf(active)}${active.bitrate ? ` · ${kbps(active.bitrate)}` : ''}` : '—'

  return (
    <section className={bare ? 'player bare' : 'player'} data-testid="player" data-renewals={renewals}>
      {!bare && <h2>{grant?.title || 'Video'}</h2>}
      {problem && <p className="problem" role="alert" data-testid="player-problem">{problem}</p>}
      <div className="player-frame" ref={frameRef}>
        <video
          ref={videoRef}
          data-testid="video"
          muted
          playsInline
          poster={grant?.poster_url || undefined}
          onClick={togglePlay}
          onPlay={() => setPlaying(true)}
          onPause={() => setPlaying(false)}
          onVolumeChange={(e) => { setMuted(e.target.muted); setVolume(e.target.volume) }}
          onTimeUpdate={(e) => setTime({ now: e.target.currentTime, duration: e.target.duration })}
          onDurationChange={(e) => setTime({ now: e.target.currentTime, duration: e.target.duration })}
        />
        <div className="player-bar">
          <button type="button" className="icon" onClick={togglePlay} aria-label="Play"
            aria-pressed={playing} data-testid="play">
            {playing ? '❚❚' : '▶'}
          </button>
          <div className="timeline" onMouseMove={onTimelineHover}
            onMouseLeave={() => setPreview((p) => (p?.source === 'pointer' ? null : p))}>
            <input
              type="range"
              className="timeline-input"
              data-testid="timeline"
              aria-label="Seek"
              aria-valuetext={`${clock(time.now)} of ${clock(duration)}`}
              min={0}
              max={duration || 0}
              step="any"
              value={Math.min(time.now, duration || 0)}
              onChange={(e) => seek(Number(e.target.value))}
              onKeyDown={onTimelineKey}
              onFocus={() => showPreview(videoRef.current?.currentTime || 0, 'key')}
              onBlur={() => setPreview(null)}
              style={{ '--played': `${duration ? (time.now / duration) * 100 : 0}%` }}
            />
            {preview && (
              <div className="timeline-preview" data-testid="scrub-preview" aria-hidden="true"
                style={{ left: `${preview.fraction * 100}%` }}>
                {cue && (
                  <div className="timeline-thumb" data-testid="scrub-thumb" style={{
                    width: cue.w, height: cue.h,
                    backgroundImage: `url("${resign(cue.url)}")`,
                    backgroundPosition: `-${cue.x}px -${cue.y}px`,
                  }} />
                )}
                <span data-testid="preview-time">{clock(preview.at)}</span>
              </div>
            )}
          </div>
          <span className="player-time" data-testid="time" aria-live="off">
            {clock(time.now)} / {clock(duration)}
          </span>
          <button type="button" className="icon" onClick={toggleMute} aria-label="Mute"
            aria-pressed={muted} data-testid="mute">
            {muted ? '🔇' : '🔊'}
          </button>
          <input type="range" className="volume" aria-label="Volume" min={0} max={1} step={0.05}
            value={muted ? 0 : volume} onChange={(e) => changeVolume(Number(e.target.value))} />
          <button type="button" className="icon" onClick={toggleFullscreen} aria-label="Fullscreen"
            aria-pressed={fullscreen} data-testid="fullscreen">
            ⛶
          </button>
        </div>
      </div>
      <div className="controls">
        <span id="format-label">Format:</span>
        <div role="group" aria-labelledby="format-label" className="button-group">
          {['hls', 'dash'].filter((f) => f === 'hls' || grant?.dash_url).map((f) => (
            <button key={f} type="button" className={format === f ? 'on' : ''} aria-pressed={format === f}
              onClick={() => switchFormat(f)}>
              {f.toUpperCase()}
            </button>
          ))}
        </div>
        <span id="quality-label">Quality:</span>
        <div role="group" aria-labelledby="quality-label" className="button-group">
          <button type="button" className={level === -1 ? 'on' : ''} aria-pressed={level === -1}
            onClick={() => chooseLevel(-1)}>Auto</button>
          {levels.map((l) => (
            <button key={l.index} type="button" data-testid="level" className={level === l.index ? 'on' : ''}
              aria-pressed={level === l.index} onClick={() => chooseLevel(l.index)}>
              {l.height}p · {kbps(l.bitrate)}
            </button>
          ))}
        </div>
        <span className="muted" data-testid="active-level">Playing: {activeLabel}</span>
        <TrackMenus engine={engine} />
      </div>
    </section>
  )
}
