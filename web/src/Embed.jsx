import { useEffect } from 'react'
import Player from './Player.jsx'
import { shareToken } from './Watch.jsx'

// /embed/{id}?token=…: the player alone, filling the iframe another site put it in (no header,
// no navigation, no sign-in: the share token is the grant).
export default function Embed({ assetId }) {
  useEffect(() => {
    document.documentElement.classList.add('embedded')
    return () => document.documentElement.classList.remove('embedded')
  }, [])
  return (
    <div className="embed">
      <Player assetId={assetId} token={shareToken()} bare />
    </div>
  )
}
