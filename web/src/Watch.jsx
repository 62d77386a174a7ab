import Player from './Player.jsx'
import ShareBox from './ShareBox.jsx'

// The share link's token, if the page was opened with one (`/watch/{id}?token=…`).
export const shareToken = () => new URLSearchParams(window.location.search).get('token')

// /watch/{id}: the player, for a signed-in viewer or anyone holding a share link; a signed-in
// key allowed to share also gets the share box.
export default function Watch({ assetId, me = null }) {
  const token = shareToken()
  return (
    <>
      <Player assetId={assetId} token={token} />
      {!token && me?.allowed?.['assets:Share'] && <ShareBox assetId={assetId} />}
    </>
  )
}
