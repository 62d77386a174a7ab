import Player from './Player.jsx'

// The share link's token, if the page was opened with one (`/watch/{id}?token=…`).
export const shareToken = () => new URLSearchParams(window.location.search).get('token')

// /watch/{id}: the player, for a signed-in viewer or anyone holding a share link.
export default function Watch({ assetId }) {
  return <Player assetId={assetId} token={shareToken()} />
}
