// Thin client for the prime-vod API: the key lives in the browser's storage.
const KEY_STORAGE = 'primevod.apiKey'

export const getKey = () => window.localStorage.getItem(KEY_STORAGE) || ''
export const setKey = (key) => window.localStorage.setItem(KEY_STORAGE, key.trim())

export class ApiError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

// A sentence a person can act on, from an HTTP status and the server's detail.
function plainWords(status, detail) {
  if (status === 401) return 'The API key is missing or not valid. Enter a key above.'
  if (status === 403) return 'This API key may not upload. Use an uploader or admin key.'
  if (status === 404) return detail || 'Not found.'
  if (status >= 500) return 'The server had a problem. The upload will be retried.'
  return detail || `Request failed (${status}).`
}

export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { Authorization: `Bearer ${getKey()}` }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await fetch(path, {
    method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!response.ok) {
    let detail = ''
    try {
      const data = await response.json()
      detail = typeof data.detail === 'string' ? data.detail : JSON.stringify(data.detail)
    } catch {
      detail = response.statusText
    }
    throw new ApiError(response.status, plainWords(response.status, detail))
  }
  return response.status === 204 ? null : response.json()
}
