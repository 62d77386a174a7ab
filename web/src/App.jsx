import AssetPage from './AssetPage.jsx'
import PrimeVODUploader from './PrimeVODUploader.jsx'

export default function App() {
  const watch = window.location.pathname.match(/^\/watch\/([0-9a-f-]{36})/)
  return (
    <main className="page">
      <header className="top">
        <h1>prime-vod</h1>
        <nav>
          <a href="/">Upload</a>
          <a href="/docs">API</a>
        </nav>
      </header>
      {watch ? <AssetPage assetId={watch[1]} /> : <PrimeVODUploader />}
    </main>
  )
}
