import { useRef, useState } from 'react'
import TrackMenus from './TrackMenus.jsx'
import PlayerBar from './PlayerBar.jsx'
import { ActiveLevel, FormatChoice, QualityChoice } from './PlayerChoices.jsx'
import useFullscreen from './useFullscreen.js'
import usePlaybackEngine from './usePlaybackEngine.js'
import usePlaybackGrant from './usePlaybackGrant.js'
import useStoryboard from './useStoryboard.js'
import useVideoState from './useVideoState.js'

// The player of /watch/{id} (signed in, or with a share link's `token`) and /embed/{id}
// (`bare`: no title, fills its frame). HLS with hls.js or DASH with dash.js, its own controls
// (one timeline with thumbnail and time previews), quality, caption and audio menus.
export default function Player({ assetId, token = null, bare = false }) {
  const videoRef = useRef(null)
  const frameRef = useRef(null)
  const [fullscreen, toggleFullscreen] = useFullscreen(frameRef)
  const [problem, setProblem] = useState('')
  const { grant, keeperRef, renewals, resign } = usePlaybackGrant(assetId, token, setProblem)
  const cues = useStoryboard(grant)
  const playback = usePlaybackEngine({ videoRef, keeperRef, grant, assetId, setProblem })
  const video = useVideoState(videoRef)
  const duration = video.time.duration || grant?.duration || 0

  return (
    <section className={bare ? 'player bare' : 'player'} data-testid="player" data-renewals={renewals}>
      {!bare && <h2>{grant?.title || 'Video'}</h2>}
      {problem && <p className="problem" role="alert" data-testid="player-problem">{problem}</p>}
      <div className="player-frame" ref={frameRef}>
        <video ref={videoRef} data-testid="video" data-codec={playback.active?.codec || ''}
          data-engine={playback.engine?.kind || ''} muted playsInline
          poster={grant?.poster_url || undefined} onClick={video.togglePlay} {...video.videoEvents} />
        <PlayerBar video={video} videoRef={videoRef} duration={duration} cues={cues} resign={resign}
          fullscreen={fullscreen} onFullscreen={toggleFullscreen} />
      </div>
      <div className="controls">
        <FormatChoice format={playback.format} hasDash={Boolean(grant?.dash_url)} onChoose={playback.switchFormat} />
        <QualityChoice levels={playback.levels} level={playback.level} onChoose={playback.chooseLevel} />
        <ActiveLevel active={playback.active} />
        <TrackMenus engine={playback.engine} />
      </div>
    </section>
  )
}
