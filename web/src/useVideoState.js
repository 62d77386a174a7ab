import { useState } from 'react'

// What the player's own controls show of the <video> in `videoRef` (time, playing, muted,
// volume), kept by the element's events (`videoEvents`, spread onto the <video>), and the
// actions the controls take on it.
export default function useVideoState(videoRef) {
  const [time, setTime] = useState({ now: 0, duration: 0 })
  const [playing, setPlaying] = useState(false)
  const [muted, setMuted] = useState(true) // autoplay needs it; the viewer unmutes
  const [volume, setVolume] = useState(1)

  const timeOf = (e) => setTime({ now: e.target.currentTime, duration: e.target.duration })
  const videoEvents = {
    onPlay: () => setPlaying(true),
    onPause: () => setPlaying(false),
    onVolumeChange: (e) => { setMuted(e.target.muted); setVolume(e.target.volume) },
    onTimeUpdate: timeOf,
    onDurationChange: timeOf,
  }

  // each action does nothing before the <video> is there
  const withVideo = (act) => (...args) => { if (videoRef.current) act(videoRef.current, ...args) }
  const actions = {
    seek: withVideo((video, to) => {
      if (!Number.isFinite(video.duration)) return
      video.currentTime = Math.min(Math.max(to, 0), video.duration)
      setTime({ now: video.currentTime, duration: video.duration })
    }),
    togglePlay: withVideo((video) => {
      if (video.paused) video.play().catch(() => {})
      else video.pause()
    }),
    toggleMute: withVideo((video) => { video.muted = !video.muted }),
    changeVolume: withVideo((video, value) => {
      video.volume = value
      video.muted = value === 0
    }),
  }
  return { time, playing, muted, volume, videoEvents, ...actions }
}
