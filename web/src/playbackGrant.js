// The playback grant of /api/v1/assets/{id}/playback: signed URLs (CloudFront-format query
// parameters whose policy covers the asset's whole folder, `<edge>/vod/<id>/*`) and the same
// signature as cookies. A grant lives `playback_ttl_seconds`; the keeper renews it at 80 % of
// its life, before a request when the tab slept through that, and once on a 403. Every media
// request the engines make is re-signed with the newest grant (`resign`), so playback goes on
// across renewals with cookies or without them (an embed on another site gets no cookies).

const SIGNING_PARAMS = ['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm']
const RENEW_AT = 0.8 // of the grant's lifetime
const LATE_MS = 3000 // a request this close to the expiry waits for a renewal first
const FORBIDDEN_GRACE_MS = 5000 // a 403 this soon after a 403's renewal is not retried again

export class GrantError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

// What a viewer reads when the grant cannot be had.
function refusal(status, detail, token) {
  if (status === 401) return 'Sign in to watch this video, or open it with a share link.'
  if (status === 403 && token) return detail || 'This share link is not valid.'
  if (status === 404) return 'This video does not exist, or you may not watch it.'
  return detail || `The player could not start (error ${status}).`
}

export async function fetchGrant(assetId, token, signal) {
  const query = token ? `?token=${encodeURIComponent(token)}` : ''
  const response = await fetch(`/api/v1/assets/${assetId}/playback${query}`, {
    credentials: 'same-origin', signal, headers: { Accept: 'application/json' },
  })
  let data = null
  try { data = await response.json() } catch { data = null }
  if (!response.ok) {
    const detail = typeof data?.detail === 'string' ? data.detail : ''
    throw new GrantError(response.status, refusal(response.status, detail, token))
  }
  return described(data)
}

const fromCloudFrontBase64 = (text) => atob(text.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'))

// The URL prefix a grant's policy covers (its resource without the trailing `*`), or null.
function coveredPrefix(url) {
  try {
    const policy = new URL(url).searchParams.get('Policy')
    const resource = JSON.parse(fromCloudFrontBase64(policy)).Statement[0].Resource
    return resource.endsWith('*') ? resource.slice(0, -1) : null
  } catch {
    return null
  }
}

function signingQuery(url) {
  const params = new URL(url).searchParams
  return SIGNING_PARAMS.filter((name) => params.has(name))
    .map((name) => `${name}=${encodeURIComponent(params.get(name))}`).join('&')
}

function described(data) {
  const url = data.hls_url || data.dash_url
  const lifetime = data.ttl_seconds ?? Math.max(1, data.expires_at - Date.now() / 1000)
  return {
    ...data,
    prefix: url ? coveredPrefix(url) : null,
    keyRoute: data.key_url ? data.key_url.split('?')[0] : null, // encrypted HLS: same signature
    query: url ? signingQuery(url) : '',
    lifetimeMs: lifetime * 1000,
    expiresLocal: Date.now() + lifetime * 1000, // the server's clock may differ from ours
  }
}

// `url` with the signature of `grant` in place of any it had, when the grant covers it (the
// asset's folder on the edge, and the key route of an encrypted asset, which checks the same
// signature).
export function resign(url, grant) {
  if (!grant?.prefix || !grant.query || typeof url !== 'string') return url
  const covered = url.startsWith(grant.prefix) || (grant.keyRoute && url.split('?')[0] === grant.keyRoute)
  if (!covered) return url
  const [path, search = ''] = url.split('#')[0].split('?')
  const kept = search.split('&').filter((piece) => piece && !SIGNING_PARAMS.includes(piece.split('=')[0]))
  return `${path}?${[...kept, grant.query].join('&')}`
}

// Keeps a grant fresh for as long as the page plays: `current()` is the newest grant,
// `resign(url)` signs a request with it, `ready()` resolves when it is usable now.
export function grantKeeper({ assetId, token, initial, onRenewed, onFailed }) {
  let grant = initial
  let timer = null
  let pending = null
  let forbiddenAt = 0
  let stopped = false

  const schedule = () => {
    clearTimeout(timer)
    if (stopped) return
    timer = setTimeout(() => { renew('scheduled').catch(() => {}) }, Math.max(1000, grant.lifetimeMs * RENEW_AT))
  }
  function renew(why) {
    if (pending) return pending
    pending = fetchGrant(assetId, token)
      .then((fresh) => {
        grant = fresh
        schedule()
        onRenewed?.(fresh, why)
        return fresh
      })
      .catch((error) => {
        onFailed?.(error)
        throw error
      })
      .finally(() => { pending = null })
    return pending
  }
  schedule()
  return {
    current: () => grant,
    resign: (url) => resign(url, grant),
    renew,
    async ready() {
      if (pending) await pending.catch(() => {})
      else if (Date.now() > grant.expiresLocal - LATE_MS) await renew('late').catch(() => {})
    },
    // A 403 from the edge: renew (once per burst of them); true when the request should be
    // tried again with the new grant.
    forbidden() {
      if (pending) return true
      if (Date.now() - forbiddenAt < FORBIDDEN_GRACE_MS) return false
      forbiddenAt = Date.now()
      renew('403').catch(() => {})
      return true
    },
    stop() { stopped = true; clearTimeout(timer) },
  }
}
