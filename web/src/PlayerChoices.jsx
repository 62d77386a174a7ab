// The choices under the player: the format (HLS, and DASH when the grant has it) and the
// quality (Auto or one rendition), with the rendition playing now.

const kbps = (bps) => `${Math.round(bps / 1000)} kb/s`
const heightOf = (level) => (level?.height ? `${level.height}p` : '')

// A button of a button group, pressed when it is the choice made.
function Choice({ on, onClick, testid, children }) {
  return (
    <button type="button" data-testid={testid} className={on ? 'on' : ''} aria-pressed={on} onClick={onClick}>
      {children}
    </button>
  )
}

export function FormatChoice({ format, hasDash, onChoose }) {
  return (
    <>
      <span id="format-label">Format:</span>
      <div role="group" aria-labelledby="format-label" className="button-group">
        {['hls', 'dash'].filter((f) => f === 'hls' || hasDash).map((f) => (
          <Choice key={f} on={format === f} onClick={() => onChoose(f)}>{f.toUpperCase()}</Choice>
        ))}
      </div>
    </>
  )
}

export function QualityChoice({ levels, level, onChoose }) {
  return (
    <>
      <span id="quality-label">Quality:</span>
      <div role="group" aria-labelledby="quality-label" className="button-group">
        <Choice on={level === -1} onClick={() => onChoose(-1)}>Auto</Choice>
        {levels.map((l) => (
          <Choice key={l.index} testid="level" on={level === l.index} onClick={() => onChoose(l.index)}>
            {l.height}p · {kbps(l.bitrate)}
          </Choice>
        ))}
      </div>
    </>
  )
}

export function ActiveLevel({ active }) {
  const label = active ? `${heightOf(active)}${active.bitrate ? ` · ${kbps(active.bitrate)}` : ''}` : '—'
  return <span className="muted" data-testid="active-level">Playing: {label}</span>
}
