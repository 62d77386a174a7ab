import { useCallback, useEffect, useState } from 'react'
import { api } from './api.js'

const ROLES = ['viewer', 'uploader', 'admin']
const EXAMPLE_POLICY = JSON.stringify({
  Statement: [
    { Effect: 'Allow', Action: ['assets:List', 'assets:Get', 'playback:Get'], Resource: ['collection/course-1/*'] },
  ],
}, null, 2)

// The new key's secret, shown once: the server keeps only its hash.
function NewSecret({ created, onDone }) {
  const [copied, setCopied] = useState('')
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key)
      setCopied('Copied.')
    } catch {
      setCopied('Copy it by hand: this browser did not allow copying.')
    }
  }
  return (
    <div className="secret" role="status" data-testid="new-key">
      <p>
        Key <strong>{created.id}</strong> ({created.role}) created. Copy it now: it is shown
        only this once.
      </p>
      <code className="mono" data-testid="new-key-secret">{created.key}</code>
      <div className="row">
        <button type="button" onClick={copy}>Copy</button>
        <button type="button" onClick={onDone}>Done</button>
        <span className="muted" aria-live="polite">{copied}</span>
      </div>
    </div>
  )
}

function CreateKey({ onCreated }) {
  const [name, setName] = useState('')
  const [mode, setMode] = useState('role')
  const [role, setRole] = useState('viewer')
  const [policy, setPolicy] = useState(EXAMPLE_POLICY)
  const [problem, setProblem] = useState('')
  const submit = async (event) => {
    event.preventDefault()
    setProblem('')
    const body = { name: name.trim() || undefined }
    if (mode === 'role') body.role = role
    else {
      try {
        body.policy = JSON.parse(policy)
      } catch (e) {
        setProblem(`The policy is not JSON: ${e.message}`)
        return
      }
    }
    try {
      onCreated(await api('/api/v1/api-keys', { method: 'POST', body }))
      setName('')
    } catch (e) {
      setProblem(e.message)
    }
  }
  return (
    <form className="create-key" onSubmit={submit} data-testid="create-key">
      <h3>Create a key</h3>
      <label htmlFor="key-name">Name</label>
      <input id="key-name" value={name} onChange={(e) => setName(e.target.value)}
        placeholder="who or what uses it" maxLength={200} />
      <fieldset>
        <legend>Access</legend>
        <label><input type="radio" name="mode" value="role" checked={mode === 'role'}
          onChange={() => setMode('role')} /> A role</label>
        <label><input type="radio" name="mode" value="policy" checked={mode === 'policy'}
          onChange={() => setMode('policy')} /> A policy document</label>
      </fieldset>
      {mode === 'role' ? (
        <>
          <label htmlFor="key-role">Role</label>
          <select id="key-role" value={role} onChange={(e) => setRole(e.target.value)}>
            {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </>
      ) : (
        <>
          <label htmlFor="key-policy">Policy (JSON: Statement with Effect, Action, Resource)</label>
          <textarea id="key-policy" rows={9} value={policy} spellCheck={false}
            onChange={(e) => setPolicy(e.target.value)} />
        </>
      )}
      <button type="submit">Create key</button>
      {problem && <p className="problem" role="alert" data-testid="create-problem">{problem}</p>}
    </form>
  )
}

function KeyRow({ item, mine, onRevoke }) {
  const [confirming, setConfirming] = useState(false)
  return (
    <tr data-testid="key-row" data-key-id={item.id}>
      <td className="mono">{item.id}{mine ? ' (you)' : ''}</td>
      <td>{item.name || ''}</td>
      <td>{item.role}</td>
      <td>{item.policy === 'own' ? 'own policy' : 'role policy'}</td>
      <td className="nowrap">{new Date(item.created_at).toLocaleString()}</td>
      <td>{item.revoked ? 'revoked' : 'active'}</td>
      <td>
        {!item.revoked && (confirming ? (
          <>
            <button type="button" onClick={() => onRevoke(item.id)}
              aria-label={`Confirm revoking key ${item.id}`}>Confirm revoke</button>
            <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirming(true)}
            aria-label={`Revoke key ${item.id}`}>Revoke</button>
        ))}
      </td>
    </tr>
  )
}

// The API keys page (admins): list, create with a role or a policy, revoke.
export default function Keys({ me }) {
  const [keys, setKeys] = useState(null)
  const [created, setCreated] = useState(null)
  const [problem, setProblem] = useState('')
  const load = useCallback(() => api('/api/v1/api-keys')
    .then((body) => { setKeys(body.keys); setProblem('') })
    .catch((e) => setProblem(e.message)), [])
  useEffect(() => { document.title = 'API keys · prime-vod'; load() }, [load])
  const revoke = (id) => api(`/api/v1/api-keys/${encodeURIComponent(id)}`, { method: 'DELETE' })
    .then(load)
    .catch((e) => setProblem(e.message))
  if (me && !me.allowed?.['keys:List']) {
    return <p className="problem" role="alert">Your key ({me.role}) may not manage API keys.</p>
  }
  return (
    <section className="keys" data-testid="keys-page">
      <h2>API keys</h2>
      {problem && <p className="problem" role="alert">{problem}</p>}
      {created && <NewSecret created={created} onDone={() => setCreated(null)} />}
      <CreateKey onCreated={(key) => { setCreated(key); load() }} />
      <h3>Keys</h3>
      {keys === null ? <p className="muted">Loading…</p> : (
        <table className="grid-table" data-testid="keys-table">
          <thead>
            <tr><th>Id</th><th>Name</th><th>Role</th><th>Policy</th><th>Created</th><th>Status</th><th>
              <span className="visually-hidden">Actions</span></th></tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <KeyRow key={k.id} item={k} mine={k.id === me?.key_id} onRevoke={revoke} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
