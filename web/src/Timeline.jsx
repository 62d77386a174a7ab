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

// The player's one timeline: a range input (arrows seek ±5 s, Home/End to either end) that
// previews the storyboard's thumbnail and the time under the pointer, on focus and after a
// keyboard seek. `resign` signs a sprite URL with the current playback grant.
export default function Timeline({ videoRef, now, duration, cues, resign, onSeek }) {
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

  const onKey = (event) => {
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
    onSeek(targets[event.key])
    show(video.currentTime, 'key')
  }

  const onHover = (event) => {
    const rect = event.currentTarget.getBoundingClientRect()
    show(((event.clientX - rect.left) / rect.width) * (videoRef.current?.duration || duration), 'pointer')
  }

  const cue = preview ? cueAt(cues, preview.at) : null
  return (
    <div className="timeline" onMouseMove={onHover}
      onMouseLeave={() => setPreview((p) => (p?.source === 'pointer' ? null : p))}>
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
        onBlur={() => setPreview(null)}
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
  )
}
