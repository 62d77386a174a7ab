import Timeline, { clock } from './Timeline.jsx'

// A button that is on or off (aria-pressed), with an icon for a face.
function ToggleButton({ label, pressed, testid, onClick, children }) {
  return (
    <button type="button" className="icon" onClick={onClick} aria-label={label}
      aria-pressed={pressed} data-testid={testid}>
      {children}
    </button>
  )
}

function VolumeSlider({ muted, volume, onChange }) {
  return (
    <input type="range" className="volume" aria-label="Volume" min={0} max={1} step={0.05}
      value={muted ? 0 : volume} onChange={(e) => onChange(Number(e.target.value))} />
  )
}

// The bar over the video: play, the timeline, the time, mute, volume and fullscreen.
// `video` is useVideoState's state and actions; `duration` the one to show (the grant's
// until the media says).
export default function PlayerBar({ video, videoRef, duration, cues, resign, fullscreen, onFullscreen }) {
  return (
    <div className="player-bar">
      <ToggleButton label="Play" pressed={video.playing} testid="play" onClick={video.togglePlay}>
        {video.playing ? '❚❚' : '▶'}
      </ToggleButton>
      <Timeline videoRef={videoRef} now={video.time.now} duration={duration} cues={cues}
        resign={resign} onSeek={video.seek} />
      <span className="player-time" data-testid="time" aria-live="off">
        {clock(video.time.now)} / {clock(duration)}
      </span>
      <ToggleButton label="Mute" pressed={video.muted} testid="mute" onClick={video.toggleMute}>
        {video.muted ? '🔇' : '🔊'}
      </ToggleButton>
      <VolumeSlider muted={video.muted} volume={video.volume} onChange={video.changeVolume} />
      <ToggleButton label="Fullscreen" pressed={fullscreen} testid="fullscreen" onClick={onFullscreen}>
        ⛶
      </ToggleButton>
    </div>
  )
}
