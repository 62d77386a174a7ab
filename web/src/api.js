// Thin client for the prime-vod API. The console is signed in with an HttpOnly session cookie
// (POST /api/v1/session, see SignIn.jsx): the browser sends it with every same-origin call and
// no script can read it, so no key is kept in the page or in the browser's storage.

// App.jsx listens for this: a 401 means the session ended (expired, signed out elsewhere,
// key revoked), so the sign-in form comes back.
export const SIGNED_OUT = 'primevod:signed-out'

export class ApiError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

// A sentence a person can act on, from an HTTP status and the server's detail.
function plainWords(status, detail) {
  if (status === 401) return 'You are not signed in, or your session has ended. Sign in again.'
  if (status === 403) return detail ? `Not allowed: ${detail}` : 'Your key may not do this.'
  if (status === 404) return detail || 'Not found.'
  if (status === 429) return detail || 'Too many requests: wait a moment and try again.'
  if (status >= 500) return 'The server had a problem. Try again in a moment.'
  return detail || `Request failed (${status}).`
}

async function detailOf(response) {
  try {
    const data = await response.json()
    return typeof data.detail === 'string' ? data.detail : JSON.stringify(data.detail)
  } catch {
    return response.statusText
  }
}

export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = {}
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await fetch(path, {
    method,
    headers,
    signal,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!response.ok) {
    const detail = await detailOf(response)
    if (response.status === 401 && path !== '/api/v1/session') {
      window.dispatchEvent(new Event(SIGNED_OUT))
    }
    throw new ApiError(response.status, plainWords(response.status, detail))
  }
  return response.status === 204 ? null : response.json()
}

// Sign in with a pasted key (sent once; the answer sets the session cookie): WhoAmI.
export async function signIn(key) {
  const response = await fetch('/api/v1/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ key: key.trim() }),
  })
  if (!response.ok) {
    const detail = await detailOf(response)
    const words = response.status === 401 ? 'That key is not valid or has been revoked.' : plainWords(response.status, detail)
    throw new ApiError(response.status, words)
  }
  return response.json()
}

export const signOut = () => api('/api/v1/session', { method: 'DELETE' })
