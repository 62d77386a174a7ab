import { useId, useState } from 'react'

// The server's limits for sidecar subtitles sent at upload init (core/subtitles.py): refused
// here first so a person hears it before the video starts uploading.
export const SUBTITLE_LIMITS = { files: 8, fileBytes: 512 * 1024, totalBytes: 768 * 1024 }
const LANGUAGE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/

// "film.fr.vtt" or "film_pt-BR.srt" -> the tag; anything else -> '' (the server says und)
function guessLanguage(fileName) {
  const match = fileName.match(/[._-]([a-z]{2,3}(?:-[a-z0-9]{2,8})?)\.(vtt|srt)$/i)
  return match ? match[1] : ''
}

const kib = (bytes) => `${Math.ceil(bytes / 1024)} KiB`

// Why `files` cannot join `tracks`, or '' when they can.
function refusal(tracks, files) {
  if (tracks.length + files.length > SUBTITLE_LIMITS.files) {
    return `At most ${SUBTITLE_LIMITS.files} subtitle files.`
  }
  const big = files.find((f) => f.size > SUBTITLE_LIMITS.fileBytes)
  if (big) return `${big.name} is ${kib(big.size)}: a subtitle file may be at most 512 KiB.`
  const total = [...tracks.map((t) => t.bytes), ...files.map((f) => f.size)].reduce((a, b) => a + b, 0)
  if (total > SUBTITLE_LIMITS.totalBytes) {
    return `The subtitle files would be ${kib(total)} together: at most 768 KiB in all.`
  }
  return ''
}

export const validLanguage = (text) => !text.trim() || LANGUAGE.test(text.trim())

// What the upload init's `subtitles` field takes (api/uploads.py SubtitleIn), or undefined.
export function subtitlesField(tracks) {
  if (!tracks.length) return undefined
  return tracks.map((t) => ({ language: t.language.trim() || undefined, text: t.text }))
}

// The chosen files read as tracks, each with the language its name suggests.
function readTracks(files) {
  return Promise.all(
    files.map(async (file, n) => ({
      id: `${Date.now()}-${n}-${file.name}`,
      fileName: file.name,
      bytes: file.size,
      text: await file.text(),
      language: guessLanguage(file.name),
    })),
  )
}

// One chosen file: its language (flagged when it is not a tag) and a Remove button.
function TrackRow({ track, input, onLanguage, onRemove }) {
  const bad = !validLanguage(track.language)
  return (
    <li data-testid="subtitle-track" data-file={track.fileName}>
      <label htmlFor={input}>Language of {track.fileName}</label>
      <input
        id={input}
        type="text"
        size={8}
        placeholder="en"
        value={track.language}
        aria-invalid={bad}
        onChange={(e) => onLanguage(e.target.value)}
      />
      {bad && <span className="problem">not a language tag</span>}
      <button type="button" aria-label={`Remove ${track.fileName}`} onClick={onRemove}>
        Remove
      </button>
    </li>
  )
}

// WebVTT or SRT files read in the browser, each with a language, sent with each video of
// the next upload. `tracks`: [{id, fileName, bytes, text, language}].
export default function SubtitlePicker({ tracks, onChange }) {
  const base = useId()
  const [problem, setProblem] = useState('')

  async function add(event) {
    const files = [...event.target.files]
    event.target.value = '' // the same file may be chosen again after a removal
    const why = refusal(tracks, files)
    setProblem(why)
    if (why || !files.length) return
    onChange([...tracks, ...(await readTracks(files))])
  }

  const setLanguage = (id, language) =>
    onChange(tracks.map((t) => (t.id === id ? { ...t, language } : t)))
  const remove = (id) => {
    setProblem('')
    onChange(tracks.filter((t) => t.id !== id))
  }

  return (
    <fieldset className="subtitle-picker" data-testid="subtitles">
      <legend>Subtitles</legend>
      <p id={`${base}-help`} className="muted">
        WebVTT or SRT files, sent with each video of the next upload: at most 8, 512 KiB each
        and 768 KiB in all. The language is a tag like en, fr or pt-BR (empty: undetermined).
      </p>
      <label htmlFor={`${base}-files`}>Add subtitle files</label>
      <input
        id={`${base}-files`}
        data-testid="subtitle-files"
        type="file"
        accept=".vtt,.srt,text/vtt"
        multiple
        aria-describedby={`${base}-help`}
        onChange={add}
      />
      {problem && <p className="problem" role="alert">{problem}</p>}
      {tracks.length > 0 && (
        <ul className="subtitle-list">
          {tracks.map((t) => (
            <TrackRow key={t.id} track={t} input={`${base}-lang-${t.id}`}
              onLanguage={(language) => setLanguage(t.id, language)} onRemove={() => remove(t.id)} />
          ))}
        </ul>
      )}
    </fieldset>
  )
}
