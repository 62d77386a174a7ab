import { Suspense, lazy } from 'react'
import Library from './Library.jsx'
import Player from './Player.jsx'
import PrimeVODUploader from './PrimeVODUploader.jsx'
import { ApiKeyForm } from './PrimeVODUploader.jsx'

// uPlot and the dashboard load only when /dashboard is opened.
const Dashboard = lazy(() => import('./Dashboard.jsx'))

export default function App() {
  const path = window.location.pathname
  const watch = path.match(/^\/watch\/([0-9a-f-]{36})/)
  let page = <PrimeVODUploader />
  if (watch) page = <><ApiKeyForm onSaved={() => window.location.reload()} /><Player assetId={watch[1]} /></>
  else if (path.startsWith('/library')) page = <><ApiKeyForm onSaved={() => window.location.reload()} /><Library /></>
  else if (path.startsWith('/dashboard')) {
    page = <Suspense fallback={<p className="muted">Loading…</p>}><Dashboard /></Suspense>
  }
  return (
    <main className={path.startsWith('/dashboard') ? 'page wide' : 'page'}>
      <header className="top">
        <h1>prime-vod</h1>
        <nav>
          <a href="/">Upload</a>
          <a href="/library">Library</a>
          <a href="/dashboard">Dashboard</a>
          <a href="/docs">API</a>
        </nav>
      </header>
      {page}
    </main>
  )
}
