import { useEffect, useRef, useState } from 'react'
import Hls from 'hls.js'
import { startQoe } from './qoe.js'
import { startDash, startHls } from './playbackEngines.js'

// The engine for `kind` on the context's <video>: dash.js, hls.js, or (Safari, which plays
// HLS natively and sends the cookies) the browser itself, which has no engine object.
function startEngine(kind, context) {
  if (kind === 'dash') return startDash(context)
  if (Hls.isSupported()) return startHls(context)
  const { video, keeper } = context
  video.src = keeper.current().hls_url
  return { engine: null, stop: () => video.removeAttribute('src') }
}

// The QoE beacon of one engine run, reporting the manifest the engine plays.
function startQoeFor(kind, video, assetId, keeper) {
  return startQoe({
    video,
    assetId,
    playback: () => keeper.current()[kind === 'dash' ? 'dash_url' : 'hls_url'],
    player: kind === 'dash' ? 'dash.js' : Hls.isSupported() ? 'hls.js' : 'native',
  })
}

// Pins the engine to rendition `index`, or (-1) lets its ABR choose again.
function pinLevel(engine, index) {
  if (engine?.kind === 'hls') engine.hls.currentLevel = index // flushes: switches now
  if (engine?.kind === 'dash') {
    engine.player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: index < 0 } } } })
    if (index >= 0) engine.player.setRepresentationForTypeByIndex('video', index, true)
  }
}

// Attaches the engine of `format` to the video once the grant is there, and tears it down
// (engine and QoE beacon) when the grant or the format changes. `engine` is null,
// {kind: 'hls', hls} or {kind: 'dash', player}; `levels` the renditions it may play, `level`
// the one chosen (-1: automatic), `active` the one playing. Engine problems go to
// `setProblem` only when no problem is shown yet.
function useEngine({ videoRef, keeperRef, grant, format, assetId, resumeRef, setProblem }) {
  const engineRef = useRef(null)
  const [engine, setEngine] = useState(null)
  const [levels, setLevels] = useState([])
  const [level, setLevel] = useState(-1)
  const [active, setActive] = useState(null)

  useEffect(() => {
    const video = videoRef.current
    const keeper = keeperRef.current
    if (!grant || !video || !keeper) return undefined
    setLevels([])
    setLevel(-1)
    setActive(null)
    const kind = format === 'dash' ? 'dash' : 'hls'
    const qoe = startQoeFor(kind, video, assetId, keeper)
    // the first problem stays: a share that expired says so, not the errors that follow
    const on = { levels: setLevels, active: setActive, problem: (text) => setProblem((p) => p || text) }
    const started = startEngine(kind, { video, keeper, resume: resumeRef.current, qoe, on })
    engineRef.current = started.engine
    setEngine(started.engine)
    return () => {
      qoe.stop()
      started.stop()
      engineRef.current = null
      setEngine(null)
    }
  }, [grant, format, assetId, videoRef, keeperRef, resumeRef, setProblem])

  const chooseLevel = (index) => {
    setLevel(index)
    pinLevel(engineRef.current, index)
  }
  return { engine, levels, level, active, chooseLevel }
}

// The player's engine with its format choice (HLS or DASH): switching format starts the new
// engine where the old one was, playing if it played.
export default function usePlaybackEngine({ videoRef, keeperRef, grant, assetId, setProblem }) {
  const resumeRef = useRef({ time: 0, playing: true })
  const [format, setFormat] = useState('hls')
  const playback = useEngine({ videoRef, keeperRef, grant, format, assetId, resumeRef, setProblem })

  const switchFormat = (next) => {
    if (next === format) return
    const video = videoRef.current
    resumeRef.current = { time: video?.currentTime || 0, playing: video ? !video.paused : true }
    setFormat(next)
  }
  return { ...playback, format, switchFormat }
}
