import { useEffect, useState } from 'react'

// Whether `frameRef`'s element is the page's fullscreen element, and a toggle for it. The
// state follows `fullscreenchange`, so Escape and the browser's own controls are seen too.
export default function useFullscreen(frameRef) {
  const [full, setFull] = useState(false)
  useEffect(() => {
    const onChange = () => setFull(document.fullscreenElement === frameRef.current)
    document.addEventListener('fullscreenchange', onChange)
    return () => document.removeEventListener('fullscreenchange', onChange)
  }, [frameRef])
  const toggle = () => {
    if (document.fullscreenElement) document.exitFullscreen?.().catch(() => {})
    else frameRef.current?.requestFullscreen?.().catch(() => {})
  }
  return [full, toggle]
}
