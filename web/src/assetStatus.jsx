import { useEffect, useRef } from 'react'

// What an asset's status means to a person, shared by the library and the uploads list.
export const STATUS_WORDS = {
  ingesting: 'Checking the file',
  processing: 'Encoding',
  publishing: 'Publishing',
  ready: 'Ready',
  failed: 'Failed',
}

// statuses that change on their own: worth asking the server again
export const WORKING = new Set(['ingesting', 'processing', 'publishing'])

export const percentOf = (asset) => Math.round(Math.min(1, Math.max(0, asset?.progress || 0)) * 100)

// "Encoding 42 %", "Ready", ...
export function statusText(asset) {
  const words = STATUS_WORDS[asset.status] || asset.status
  return asset.status === 'processing' ? `${words} ${percentOf(asset)} %` : words
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

// the creation time as people read it, with the exact instant for machines
export function CreatedAt({ iso }) {
  const date = new Date(iso)
  if (!iso || Number.isNaN(date.getTime())) return null
  return (
    <time dateTime={date.toISOString()} title={date.toISOString()} data-testid="created">
      {dateFormat.format(date)}
    </time>
  )
}

// Calls `poll` every `ms` while `active` and the page is visible; a hidden page asks
// nothing and catches up as soon as it is shown again.
export function useVisiblePolling(poll, active, ms = 3000) {
  const latest = useRef(poll)
  latest.current = poll
  useEffect(() => {
    if (!active) return undefined
    let timer = null
    let stopped = false
    const schedule = () => {
      window.clearTimeout(timer)
      if (!stopped && !document.hidden) timer = window.setTimeout(tick, ms)
    }
    const tick = () => Promise.resolve(latest.current()).finally(schedule)
    const onVisibility = () => { if (!document.hidden) tick() }
    document.addEventListener('visibilitychange', onVisibility)
    schedule()
    return () => {
      stopped = true
      window.clearTimeout(timer)
      document.removeEventListener('visibilitychange', onVisibility)
    }
  }, [active, ms])
}
