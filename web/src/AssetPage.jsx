import { useEffect, useState } from 'react'
import { api } from './api.js'

// What the catalog knows about one asset. Playback arrives with the signed delivery edge.
export default function AssetPage({ assetId }) {
  const [asset, setAsset] = useState(null)
  const [error, setError] = useState('')
  useEffect(() => {
    api(`/api/v1/assets/${assetId}`).then(setAsset).catch((e) => setError(e.message))
  }, [assetId])
  if (error) return <p className="problem" role="alert">{error}</p>
  if (!asset) return <p className="muted">Loading…</p>
  const video = asset.renditions.filter((r) => r.kind === 'video')
  return (
    <section data-testid="asset-page">
      <h2>{asset.title || asset.id}</h2>
      <p>
        <strong>{asset.status}</strong>
        {asset.duration ? ` · ${asset.duration.toFixed(1)} s` : ''}
        {asset.error ? ` · ${asset.error.message} (${asset.error.code})` : ''}
      </p>
      {video.length > 0 && (
        <table className="renditions">
          <thead><tr><th>rendition</th><th>size</th><th>codecs</th><th>average</th><th>peak</th></tr></thead>
          <tbody>
            {video.map((r) => (
              <tr key={r.name}>
                <td>{r.name}</td><td>{r.width}x{r.height}</td><td>{r.codecs}</td>
                <td>{Math.round(r.average_bitrate / 1000)} kb/s</td>
                <td>{Math.round(r.peak_bitrate / 1000)} kb/s</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {asset.hls_path && <p className="muted">HLS: {asset.hls_path}<br />DASH: {asset.dash_path}</p>}
    </section>
  )
}
