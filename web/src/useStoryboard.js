import { useEffect, useState } from 'react'
import { parseStoryboard } from './storyboard.js'

// The thumbnail cues of the grant's storyboard (WebVTT of sprite tiles), or none: a title
// without a storyboard, or one that fails to load, previews the time alone.
export default function useStoryboard(grant) {
  const [cues, setCues] = useState([])
  useEffect(() => {
    if (!grant?.storyboard_url) return
    fetch(grant.storyboard_url, { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(r.status))))
      .then((text) => setCues(parseStoryboard(text, grant.storyboard_url)))
      .catch(() => setCues([]))
  }, [grant])
  return cues
}
