// Codec families of a multi-codec package (docs/media.md): the player takes the most
// efficient family this browser decodes and keeps to it for the whole play, because
// switching codecs mid-play (MediaSource changeType) is not smooth on every platform.

// most efficient first; H.264 is the family every browser plays
const PREFERENCE = ['av1', 'hevc', 'h264']
const ENTRIES = { av1: ['av01'], hevc: ['hvc1', 'hev1'], h264: ['avc1', 'avc3'] }
// a codec string of each family at a level every ladder rung fits under (1080p)
const PROBES = { av1: 'av01.0.08M.08', hevc: 'hvc1.1.6.L120.90', h264: 'avc1.640028' }

// The family of an RFC 6381 codec string ("av01.0.04M.08" -> "av1"); null for audio.
export function familyOf(codec) {
  const entry = (codec || '').trim().slice(0, 4).toLowerCase()
  return PREFERENCE.find((family) => ENTRIES[family].includes(entry)) || null
}

// Whether the browser decodes a family. Tests may set `window.__primevodForceCodecs` (sample
// entries such as ['avc1']) before the player starts, to play as a browser decoding only those.
export function decodes(family) {
  const forced = window.__primevodForceCodecs
  if (Array.isArray(forced)) return ENTRIES[family].some((entry) => forced.includes(entry))
  const source = window.ManagedMediaSource || window.MediaSource
  return Boolean(source?.isTypeSupported?.(`video/mp4; codecs="${PROBES[family]}"`))
}

// The family to play among those the package holds: the first of PREFERENCE it holds and
// the browser decodes; H.264 when none is (an old package lists no families).
export function chooseFamily(available) {
  const held = available && available.length ? available : ['h264']
  return PREFERENCE.find((family) => held.includes(family) && decodes(family)) || 'h264'
}
