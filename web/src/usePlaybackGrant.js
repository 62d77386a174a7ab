import { useEffect, useRef, useState } from 'react'
import { fetchGrant, grantKeeper } from './playbackGrant.js'

const refused = (error) => error.status === 403 || error.status === 401

// The asset's first playback grant and the keeper that renews it (playbackGrant.js).
// `grant` is the first grant (it starts the engines and names the page); the keeper, in
// `keeperRef`, always holds the newest. `renewals` counts the keeper's renewals (tests read
// it); `resign` signs a URL with the newest grant. A grant refused now or at a renewal
// becomes the player's `problem` through `setProblem`.
export default function usePlaybackGrant(assetId, token, setProblem) {
  const keeperRef = useRef(null)
  const [grant, setGrant] = useState(null)
  const [renewals, setRenewals] = useState(0)

  useEffect(() => {
    const abort = new AbortController()
    setProblem('')
    fetchGrant(assetId, token, abort.signal)
      .then((first) => {
        keeperRef.current = grantKeeper({
          assetId,
          token,
          initial: first,
          onRenewed: () => setRenewals((n) => n + 1),
          onFailed: (error) => { if (refused(error)) setProblem(error.message) },
        })
        setGrant(first)
      })
      .catch((error) => { if (error.name !== 'AbortError') setProblem(error.message) })
    return () => { abort.abort(); keeperRef.current?.stop() }
  }, [assetId, token, setProblem])

  useEffect(() => {
    if (grant?.title) document.title = `${grant.title} · prime-vod`
  }, [grant])

  const resign = (url) => keeperRef.current?.resign(url) || url
  return { grant, keeperRef, renewals, resign }
}
