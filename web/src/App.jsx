import { Suspense, lazy, useCallback, useEffect, useState } from 'react'
import AssetPage from './AssetPage.jsx'
import Header from './Header.jsx'
import Library from './Library.jsx'
import Embed from './Embed.jsx'
import PrimeVODUploader from './PrimeVODUploader.jsx'
import SignIn from './SignIn.jsx'
import Watch from './Watch.jsx'
import { SIGNED_OUT, api } from './api.js'

// uPlot and the dashboard load only when /dashboard is opened; so does the keys page.
const Dashboard = lazy(() => import('./Dashboard.jsx'))
const Keys = lazy(() => import('./Keys.jsx'))

const loading = <p className="muted">Loading…</p>

const WATCH = /^\/watch\/([0-9a-f-]{36})$/
const EMBED = /^\/embed\/([0-9a-f-]{36})$/
const ASSET = /^\/assets\/([0-9a-f-]{36})$/

function pageFor(path, me) {
  const watch = path.match(WATCH)
  if (watch) return <Watch assetId={watch[1]} me={me} />
  const embed = path.match(EMBED)
  if (embed) return <Embed assetId={embed[1]} />
  if (!me) return <NotFound />  // a public path that names no asset: nothing of the console
  const asset = path.match(ASSET)
  if (asset) return <AssetPage assetId={asset[1]} me={me} />
  if (path.startsWith('/library')) return <Library />
  if (path.startsWith('/dashboard')) return <Suspense fallback={loading}><Dashboard /></Suspense>
  if (path.startsWith('/keys')) return <Suspense fallback={loading}><Keys me={me} /></Suspense>
  if (path === '/' || path === '/upload') return <PrimeVODUploader />
  return <NotFound />
}

function NotFound() {
  useEffect(() => { document.title = 'Not found · prime-vod' }, [])
  return (
    <section aria-labelledby="not-found-heading" data-testid="not-found">
      <h2 id="not-found-heading">Page not found</h2>
      <p>There is no page at this address. A share link names one video: check that it was copied whole.</p>
    </section>
  )
}

// The title of the pages that have no title of their own to give (the asset, player, keys
// and sign-in pages name themselves): one per page, so a tab and a screen reader say where.
const TITLES = [['/library', 'Library'], ['/dashboard', 'Dashboard'], ['/', 'Upload']]

function usePageTitle(path, signedIn) {
  useEffect(() => {
    if (!signedIn) return
    const found = TITLES.find(([prefix]) => prefix === '/' ? path === '/' || path === '/upload' : path.startsWith(prefix))
    if (found) document.title = `${found[1]} · prime-vod`
  }, [path, signedIn])
}

// Pages anyone with a share link may open: no sign-in asked. An /embed/ path is never the
// console (a page that names no asset shows "not found", with no sign-in and no uploader).
function isPublic(path) {
  const shared = new URLSearchParams(window.location.search).has('token')
  return path.startsWith('/embed/') || (path.startsWith('/watch/') && shared)
}

// The signed-in key (WhoAmI), null when signed out, undefined while asking.
function useSession(skip) {
  const [me, setMe] = useState(skip ? null : undefined)
  const [problem, setProblem] = useState('')
  useEffect(() => {
    if (skip) return undefined
    api('/api/v1/session')
      .then(setMe)
      .catch((e) => {
        setMe(null)
        if (e.status !== 401) setProblem(e.message)
      })
    const ended = () => setMe(null)
    window.addEventListener(SIGNED_OUT, ended)
    return () => window.removeEventListener(SIGNED_OUT, ended)
  }, [skip])
  return { me, setMe, problem }
}

export default function App() {
  const path = window.location.pathname
  const open = isPublic(path)
  const { me, setMe, problem } = useSession(open)
  const [notice, setNotice] = useState('')
  usePageTitle(path, Boolean(me))
  const signedOut = useCallback(() => {
    setNotice('You have signed out.')
    setMe(null)
  }, [setMe])
  let page = open ? pageFor(path, null) : loading
  if (!open && me === null) page = <SignIn onSignedIn={setMe} notice={problem || notice} />
  else if (!open && me) page = pageFor(path, me)
  return (
    <main className={path.startsWith('/dashboard') ? 'page wide' : 'page'}>
      {!open && <Header me={me} onSignedOut={signedOut} />}
      {page}
    </main>
  )
}
