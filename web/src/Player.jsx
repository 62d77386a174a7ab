import { useEffect, useRef, useState } from 'react'
import Hls from 'hls.js'
import TrackMenus from './TrackMenus.jsx'
import Timeline, { clock } from './Timeline.jsx'
import { parseStoryboard } from './storyboard.js'
import { startQoe } from './qoe.js'
import { fetchGrant, grantKeeper } from './playbackGrant.js'
import { startDash, startHls } from './playbackEngines.js'

const kbps = (bps) => `${Math.round(bps / 1000)} kb/s`
const heightOf = (level) => (level?.height ? `${level.height}p` : '')

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
  const [grant, setGrant] = useState(null)
  const [format, setFormat] = useState('hls')
  const [engine, setEngine] = useState(null)
  const [levels, setLevels] = useState([])
  const [level, setLevel] = useState(-1)
  const [active, setActive] = useState(null)
  const [problem, setProblem] = useState('')
  const [cues, setCues] = useState([])
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
    // the first problem stays: a share that expired says so, not the errors that follow
    const on = { levels: setLevels, active: setActive, problem: (text) => setProblem((p) => p || text) }
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

  const seek = (to) => {
    const video = videoRef.current
    if (!video || !Number.isFinite(video.duration)) return
    video.currentTime = Math.min(Math.max(to, 0), video.duration)
    setTime({ now: video.currentTime, duration: video.duration })
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
          data-codec={active?.codec || ''}
          data-engine={engine?.kind || ''}
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
          <Timeline videoRef={videoRef} now={time.now} duration={duration} cues={cues}
            resign={resign} onSeek={seek} />
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
