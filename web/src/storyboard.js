// WebVTT storyboard: cues of `sprite.jpg#xywh=x,y,w,h` for the thumbnail-preview scrubber.
const toSeconds = (stamp) => {
  const parts = stamp.trim().split(':').map(Number)
  return parts.reduce((total, value) => total * 60 + value, 0)
}

export function parseStoryboard(text, baseUrl) {
  const cues = []
  const blocks = text.replace(/\r/g, '').split('\n\n')
  for (const block of blocks) {
    const lines = block.split('\n').filter(Boolean)
    const timing = lines.find((l) => l.includes('-->'))
    const target = lines[lines.indexOf(timing) + 1]
    if (!timing || !target) continue
    const [start, end] = timing.split('-->').map(toSeconds)
    const [file, hash] = target.split('#xywh=')
    const [x, y, w, h] = (hash || '0,0,0,0').split(',').map(Number)
    cues.push({ start, end, url: new URL(file, baseUrl).toString(), x, y, w, h })
  }
  return cues
}

export const cueAt = (cues, time) => cues.find((c) => time >= c.start && time < c.end)
