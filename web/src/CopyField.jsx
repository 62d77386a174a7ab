import { useRef, useState } from 'react'

async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text)
  } catch {
    input?.select()
    document.execCommand('copy')  // no clipboard permission: the selection is copied
  }
}

// A read-only value with its label and a Copy button (the asset page's signed URLs, a share
// link and its embed code). `id` is the field's id and its data-testid.
export default function CopyField({ id, label, value, multiline = false }) {
  const field = useRef(null)
  const [copied, setCopied] = useState(false)
  const copy = () => copyText(value, field.current).then(() => {
    setCopied(true)
    window.setTimeout(() => setCopied(false), 2000)
  })
  const Field = multiline ? 'textarea' : 'input'
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <Field id={id} ref={field} readOnly value={value} rows={multiline ? 3 : undefined}
          onFocus={(e) => e.target.select()} data-testid={id} />
        <button type="button" onClick={copy} aria-label={`Copy ${label}`}>{copied ? 'Copied' : 'Copy'}</button>
      </div>
    </div>
  )
}
