import { useEffect, useState } from 'react'
import Hls from 'hls.js'
import * as dashjs from 'dashjs'

// Caption and audio-language menus for the player. `engine` is null, {kind: 'hls', hls} or
// {kind: 'dash', player}; the menus read the engine's track lists and follow its track
// events themselves, so the Player only has to render <TrackMenus engine={engine} />.

const OFF = -1
const EMPTY = { audio: [], audioIndex: OFF, playing: '', captions: [], captionIndex: OFF }

const languageNames = typeof Intl !== 'undefined' && Intl.DisplayNames
  ? new Intl.DisplayNames(undefined, { type: 'language' })
  : null

// A track's label: its NAME when the package gave a real one (not just the language tag),
// else the language spelled out.
export function trackLabel(name, lang, position) {
  if (name && name !== lang) return name
  if (lang && lang !== 'und') {
    try { return languageNames?.of(lang) || lang } catch { return lang }
  }
  return `Track ${position + 1}`
}

function hlsState(hls) {
  const audio = (hls.audioTracks || []).map((t, i) => ({ index: i, label: trackLabel(t.name, t.lang, i), lang: t.lang || '' }))
  const captions = (hls.subtitleTracks || []).map((t, i) => ({ index: i, label: trackLabel(t.name, t.lang, i), lang: t.lang || '' }))
  const captionIndex = hls.subtitleDisplay === false ? OFF : hls.subtitleTrack
  // `playing`: the language the engine reports as switched to (the menu shows the choice
  // at once; this follows when the engine has really changed track)
  return { audio, audioIndex: hls.audioTrack, playing: audio[hls.audioTrack]?.lang || '', captions, captionIndex }
}

function dashState(player) {
  const safe = (fn, fallback) => { try { return fn() } catch { return fallback } }
  const audioTracks = safe(() => player.getTracksFor('audio'), []) || []
  const textTracks = safe(() => player.getTracksFor('text'), []) || []
  const current = safe(() => player.getCurrentTrackFor('audio'), null)
  const label = (t, i) => trackLabel(t.labels?.[0]?.text, t.lang, i)
  const audio = audioTracks.map((t, i) => ({ index: i, label: label(t, i), lang: t.lang || '' }))
  const captions = textTracks.map((t, i) => ({ index: i, label: label(t, i), lang: t.lang || '' }))
  const audioIndex = current ? audioTracks.findIndex((t) => t.id === current.id && t.lang === current.lang) : OFF
  const enabled = safe(() => player.isTextEnabled(), false)
  const captionIndex = enabled ? safe(() => player.getCurrentTextTrackIndex(), OFF) : OFF
  return { audio, audioIndex, playing: current?.lang || '', captions, captionIndex: captionIndex ?? OFF }
}

// Subscribes to the engine's track events and calls `update` with a fresh snapshot.
function follow(engine, update) {
  if (engine?.kind === 'hls') {
    const { hls } = engine
    const refresh = () => update(hlsState(hls))
    const events = [
      Hls.Events.MANIFEST_PARSED, Hls.Events.AUDIO_TRACKS_UPDATED, Hls.Events.AUDIO_TRACK_SWITCHED,
      Hls.Events.SUBTITLE_TRACKS_UPDATED, Hls.Events.SUBTITLE_TRACK_SWITCH,
    ]
    events.forEach((name) => hls.on(name, refresh))
    refresh()
    return () => events.forEach((name) => hls.off(name, refresh))
  }
  if (engine?.kind === 'dash') {
    const { player } = engine
    const refresh = () => update(dashState(player))
    const known = dashjs.MediaPlayer.events
    const events = [known.STREAM_INITIALIZED, known.TRACK_CHANGE_RENDERED, known.TEXT_TRACKS_ADDED]
      .filter(Boolean)
    events.forEach((name) => player.on(name, refresh))
    refresh()
    return () => events.forEach((name) => { try { player.off(name, refresh) } catch { /* destroyed */ } })
  }
  update(EMPTY)
  return () => {}
}

function chooseAudio(engine, index) {
  if (engine?.kind === 'hls') engine.hls.audioTrack = index
  if (engine?.kind === 'dash') {
    const track = engine.player.getTracksFor('audio')[index]
    if (track) engine.player.setCurrentTrack(track)
  }
}

function chooseCaption(engine, index) {
  if (engine?.kind === 'hls') {
    engine.hls.subtitleDisplay = index !== OFF
    engine.hls.subtitleTrack = index
  }
  if (engine?.kind === 'dash') {
    engine.player.enableText(index !== OFF)
    if (index !== OFF) engine.player.setTextTrack(index)
  }
}

export default function TrackMenus({ engine }) {
  const [state, setState] = useState(EMPTY)

  useEffect(() => follow(engine, setState), [engine])

  const pickAudio = (event) => {
    const index = Number(event.target.value)
    chooseAudio(engine, index)
    setState((s) => ({ ...s, audioIndex: index }))
  }
  const pickCaption = (event) => {
    const index = Number(event.target.value)
    chooseCaption(engine, index)
    setState((s) => ({ ...s, captionIndex: index }))
  }

  return (
    <div className="track-menus">
      <label>
        Audio
        <select data-testid="audio-menu" data-playing={state.playing} value={state.audioIndex} onChange={pickAudio}
          disabled={state.audio.length < 2}>
          {state.audio.length === 0 && <option value={OFF}>Default</option>}
          {state.audio.map((t) => <option key={t.index} value={t.index} lang={t.lang || undefined}>{t.label}</option>)}
        </select>
      </label>
      <label>
        Captions
        <select data-testid="caption-menu" value={state.captionIndex} onChange={pickCaption}
          disabled={state.captions.length === 0}>
          <option value={OFF}>Off</option>
          {state.captions.map((t) => <option key={t.index} value={t.index} lang={t.lang || undefined}>{t.label}</option>)}
        </select>
      </label>
    </div>
  )
}
