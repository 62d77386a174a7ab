import { useEffect, useRef, useState } from 'react'
import Hls from 'hls.js'
import * as dashjs from 'dashjs'
import { api } from './api.js'
import { cueAt, parseStoryboard } from './storyboard.js'
import { startQoe } from './qoe.js'

const kbps = (bps) => `${Math.round(bps / 1000)} kb/s`
const EXPIRED = 'This playback link has expired or is not valid any more. Reload the page for a new one.'

// /watch/{id}: HLS with hls.js (DASH with dash.js as a switch), quality levels, poster, and a
// scrubber that previews thumbnails from the WebVTT storyboard.
export default function Player({ assetId }) {
  const videoRef = useRef(null)
  const engineRef = useRef(null)
  const [asset, setAsset] = useState(null)
  const [links, setLinks] = useState(null)
  const [format, setFormat] = useState('hls')
  const [levels, setLevels] = useState([])
  const [level, setLevel] = useState(-1)
  const [problem, setProblem] = useState('')
  const [cues, setCues] = useState([])
  const [preview, setPreview] = useState(null)
  const [time, setTime] = useState({ now: 0, duration: 0 })

  useEffect(() => {
    api(`/api/v1/assets/${assetId}`).then(setAsset).catch((e) => setProblem(e.message))
    api(`/api/v1/assets/${assetId}/playback`).then(setLinks).catch((e) => setProblem(e.message))
  }, [assetId])

  useEffect(() => {
    if (!links?.storyboard_url) return
    fetch(links.storyboard_url, { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(r.status))))
      .then((text) => setCues(parseStoryboard(text, links.storyboard_url)))
      .catch(() => setCues([]))
  }, [links])

  useEffect(() => {
    const video = videoRef.current
    if (!links || !video) return undefined
    setLevels([])
    setLevel(-1)
    if (format === 'dash') {
      const player = dashjs.MediaPlayer().create()
      const qoe = startQoe({ video, assetId, playback: links.dash_url, player: 'dash.js' })
      player.initialize(video, links.dash_url, true)
      player.on(dashjs.MediaPlayer.events.ERROR, (e) => {
        const status = e?.error?.data?.response?.status || e?.error?.code
        qoe.error(e?.error?.code || 'DASH', true)
        setProblem(status === 403 ? EXPIRED : `Playback error (${e?.error?.message || 'DASH'})`)
      })
      player.on(dashjs.MediaPlayer.events.QUALITY_CHANGE_RENDERED, (e) => {
        if (e.mediaType !== 'video') return
        const rep = e.newRepresentation || player.getCurrentRepresentationForType?.('video')
        qoe.switched(rep?.bandwidth, rep?.height)
      })
      player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => {
        const list = player.getRepresentationsByType?.('video') || []
        setLevels(list.map((r, i) => ({ index: i, height: r.height, bitrate: r.bandwidth })))
      })
      engineRef.current = { kind: 'dash', player }
      return () => { qoe.stop(); player.destroy() }
    }
    if (Hls.isSupported()) {
      const hls = new Hls({ xhrSetup: (xhr) => { xhr.withCredentials = true } })
      const qoe = startQoe({ video, assetId, playback: links.hls_url, player: 'hls.js' })
      hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => {
        const switched = hls.levels[data.level]
        qoe.switched(switched?.bitrate, switched?.height)
      })
      hls.on(Hls.Events.MANIFEST_PARSED, (_, data) => {
        setLevels(data.levels.map((l, i) => ({ index: i, height: l.height, bitrate: l.bitrate })))
        video.play().catch(() => {})
      })
      hls.on(Hls.Events.ERROR, (_, data) => {
        qoe.error(data.details, data.fatal)
        const status = data.response?.code
        if (status === 403) setProblem(EXPIRED)
        else if (data.fatal) setProblem(`Playback error (${data.details})`)
      })
      hls.loadSource(links.hls_url)
      hls.attachMedia(video)
      engineRef.current = { kind: 'hls', hls }
      return () => { qoe.stop(); hls.destroy() }
    }
    const qoe = startQoe({ video, assetId, playback: links.hls_url, player: 'native' })
    video.src = links.hls_url // Safari plays HLS natively
    return () => qoe.stop()
  }, [links, format, assetId])

  const chooseLevel = (index) => {
    setLevel(index)
    const engine = engineRef.current
    if (engine?.kind === 'hls') engine.hls.currentLevel = index
    if (engine?.kind === 'dash') {
      engine.player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: index < 0 } } } })
      if (index >= 0) engine.player.setRepresentationForTypeByIndex?.('video', index)
    }
  }

  const onScrub = (event) => {
    const rect = event.currentTarget.getBoundingClientRect()
    const at = ((event.clientX - rect.left) / rect.width) * (time.duration || asset?.duration || 0)
    const cue = cueAt(cues, at)
    setPreview(cue ? { cue, left: event.clientX - rect.left, at } : null)
  }

  return (
    <section className="player" data-testid="player">
      <h2>{asset?.title || assetId}</h2>
      {problem && <p className="problem" role="alert" data-testid="player-problem">{problem}</p>}
      <video
        ref={videoRef}
        data-testid="video"
        controls
        muted
        playsInline
        poster={links?.poster_url || undefined}
        onTimeUpdate={(e) => setTime({ now: e.target.currentTime, duration: e.target.duration })}
      />
      <div className="scrubber" onMouseMove={onScrub} onMouseLeave={() => setPreview(null)}
        onClick={() => { if (preview && videoRef.current) videoRef.current.currentTime = preview.at }}>
        <div className="scrubber-fill" style={{ width: `${time.duration ? (time.now / time.duration) * 100 : 0}%` }} />
        {preview && (
          <div className="scrubber-preview" data-testid="scrub-preview" style={{
            left: preview.left - preview.cue.w / 2, width: preview.cue.w, height: preview.cue.h,
            backgroundImage: `url(${preview.cue.url})`,
            backgroundPosition: `-${preview.cue.x}px -${preview.cue.y}px`,
          }} />
        )}
      </div>
      <div className="controls">
        <span>Format:</span>
        {['hls', 'dash'].filter((f) => f === 'hls' || links?.dash_url).map((f) => (
          <button key={f} type="button" className={format === f ? 'on' : ''} onClick={() => setFormat(f)}>
            {f.toUpperCase()}
          </button>
        ))}
        <span>Quality:</span>
        <button type="button" className={level === -1 ? 'on' : ''} onClick={() => chooseLevel(-1)}>Auto</button>
        {levels.map((l) => (
          <button key={l.index} type="button" data-testid="level" className={level === l.index ? 'on' : ''}
            onClick={() => chooseLevel(l.index)}>
            {l.height}p · {kbps(l.bitrate)}
          </button>
        ))}
      </div>
    </section>
  )
}
