import { useEffect, useRef, useState } from 'react'
import { cueAt } from './storyboard.js'

const SEEK_STEP = 5 // seconds per arrow key
const PREVIEW_MS = 1500 // how long a keyboard seek's preview stays

export const clock = (seconds) => {
  if (!Number.isFinite(seconds) || seconds < 0) return '0:00'
  const s = Math.floor(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const rest = String(s % 60).padStart(2, '0')
  return h ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`
}

// Where a key on the timeline seeks to, or undefined for keys it leaves alone: arrows seek
// ±5 s, Home and End go to either end.
function keySeekTarget(key, video) {
  const targets = {
    ArrowRight: video.currentTime + SEEK_STEP,
    ArrowUp: video.currentTime + SEEK_STEP,
    ArrowLeft: video.currentTime - SEEK_STEP,
    ArrowDown: video.currentTime - SEEK_STEP,
    Home: 0,
    End: video.duration,
  }
  return key in targets ? targets[key] : undefined
}

// The preview shown over the timeline: {at, fraction, source} or null. `show` puts it at a
// time; one from a key ('key') goes away by itself after PREVIEW_MS, one from the pointer
// ('pointer') when the pointer leaves (`leave`).
function useScrubPreview(videoRef, duration) {
  const [preview, setPreview] = useState(null)
  const timer = useRef(null)
  useEffect(() => () => clearTimeout(timer.current), [])

  const show = (at, source) => {
    const length = videoRef.current?.duration || duration
    if (!length) return
    const bounded = Math.min(Math.max(at, 0), length)
    setPreview({ at: bounded, fraction: bounded / length, source })
    clearTimeout(timer.current)
    if (source === 'key') timer.current = setTimeout(() => setPreview(null), PREVIEW_MS)
  }
  const leave = () => setPreview((p) => (p?.source === 'pointer' ? null : p))
  const hide = () => setPreview(null)
  return { preview, show, leave, hide }
}

// The thumbnail (when the storyboard has a cue there) and the time of a preview.
function ScrubPreview({ preview, cues, resign }) {
  const cue = cueAt(cues, preview.at)
  return (
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
  )
}

// The player's one timeline: a range input (arrows seek ±5 s, Home/End to either end) that
// previews the storyboard's thumbnail and the time under the pointer, on focus and after a
// keyboard seek. `resign` signs a sprite URL with the current playback grant.
export default function Timeline({ videoRef, now, duration, cues, resign, onSeek }) {
  const { preview, show, leave, hide } = useScrubPreview(videoRef, duration)

  const onKey = (event) => {
    const video = videoRef.current
    if (!video) return
    const target = keySeekTarget(event.key, video)
    if (target === undefined) return
    event.preventDefault()
    onSeek(target)
    show(video.currentTime, 'key')
  }

  const onHover = (event) => {
    const rect = event.currentTarget.getBoundingClientRect()
    show(((event.clientX - rect.left) / rect.width) * (videoRef.current?.duration || duration), 'pointer')
  }

  return (
    <div className="timeline" onMouseMove={onHover} onMouseLeave={leave}>
      <input
        type="range"
        className="timeline-input"
        data-testid="timeline"
        aria-label="Seek"
        aria-valuetext={`${clock(now)} of ${clock(duration)}`}
        min={0}
        max={duration || 0}
        step="any"
        value={Math.min(now, duration || 0)}
        onChange={(e) => onSeek(Number(e.target.value))}
        onKeyDown={onKey}
        onFocus={() => show(videoRef.current?.currentTime || 0, 'key')}
        onBlur={hide}
      />
      {preview && <ScrubPreview preview={preview} cues={cues} resign={resign} />}
    </div>
  )
}
