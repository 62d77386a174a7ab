import { useEffect, useMemo, useRef, useState } from 'react'
import Uppy from '@uppy/core'
import AwsS3 from '@uppy/aws-s3'
import GoldenRetriever from '@uppy/golden-retriever'
import { Dashboard } from '@uppy/react'
import '@uppy/core/dist/style.min.css'
import '@uppy/dashboard/dist/style.min.css'
import { api } from './api.js'
import RecentUploads from './RecentUploads.jsx'
import SubtitlePicker, { subtitlesField, validLanguage } from './SubtitlePicker.jsx'

const UPLOADS = '/api/v1/uploads'
const MIB = 1024 * 1024

// The server's part size rule (core/uploads.py plan_parts), so Uppy cuts what it expects.
function chunkSize(size, config) {
  let part = Math.max(config.min_part_size, config.part_size, Math.ceil(size / config.max_parts))
  if (part > MIB) part = Math.ceil(part / MIB) * MIB
  return part
}

// "sea, birds" -> ['sea', 'birds'] (the server trims, drops duplicates and checks limits)
const splitTags = (text) => (text ? text.split(',').map((t) => t.trim()).filter(Boolean) : undefined)

// per-file details editable in the dashboard (the pencil on each file) before the upload
const META_FIELDS = [
  { id: 'title', name: 'Title', placeholder: 'defaults to the file name' },
  { id: 'description', name: 'Description', placeholder: 'what it is about (searchable)' },
  { id: 'tags', name: 'Tags', placeholder: 'comma-separated: sea, birds' },
]

// The upload init's body for one file: its details from the dashboard, and the subtitles.
function initBody(file, subtitles) {
  return {
    filename: file.name,
    content_type: file.type || 'application/octet-stream',
    size: file.size,
    title: file.meta?.title?.trim() || file.meta?.name?.replace(/\.[^.]+$/, '') || file.name,
    description: file.meta?.description?.trim() || undefined,
    tags: splitTags(file.meta?.tags),
    subtitles: subtitlesField(subtitles),
  }
}

// The AWS S3 plugin's multipart calls, each one of the server's /api/v1/uploads endpoints.
function multipartCalls(subtitlesRef) {
  return {
    async createMultipartUpload(file) {
      const session = await api(`${UPLOADS}/init`, { method: 'POST', body: initBody(file, subtitlesRef.current) })
      return { uploadId: session.upload_id, key: session.key }
    },
    async signPart(file, { uploadId, key, partNumber, signal }) {
      const signed = await api(`${UPLOADS}/signPart`, {
        method: 'POST', signal, body: { upload_id: uploadId, key, part_number: partNumber },
      })
      return { method: 'PUT', url: signed.url, headers: signed.headers || {} }
    },
    listParts(file, { uploadId, key, signal }) {
      const query = `key=${encodeURIComponent(key)}`
      return api(`${UPLOADS}/${encodeURIComponent(uploadId)}/parts?${query}`, { signal })
    },
    completeMultipartUpload(file, { uploadId, key, parts, signal }) {
      return api(`${UPLOADS}/complete`, {
        method: 'POST', signal,
        body: { upload_id: uploadId, key, parts: parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })) },
      })
    },
    async abortMultipartUpload(file, { uploadId, key, signal }) {
      await api(`${UPLOADS}/abort`, { method: 'POST', signal, body: { upload_id: uploadId, key } })
    },
  }
}

// `subtitlesRef`: the subtitle tracks chosen below the dashboard, sent with each init
function makeUppy(configRef, subtitlesRef) {
  const uppy = new Uppy({
    id: 'primevod',
    autoProceed: false,
    restrictions: { allowedFileTypes: ['video/*', 'audio/*', '.mkv', '.mxf', '.ts', '.mts'] },
    // a language the server would refuse stops the upload here, before any byte is sent
    onBeforeUpload: () => subtitlesRef.current.every((t) => validLanguage(t.language)),
  })
  uppy.use(AwsS3, {
    shouldUseMultipart: true,
    limit: 6,
    retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
    getChunkSize: (file) => chunkSize(file.size, configRef.current),
    ...multipartCalls(subtitlesRef),
  })
  uppy.use(GoldenRetriever, { serviceWorker: false })
  return uppy
}

// The server's upload limits (part sizes, largest file) into `configRef` and the uppy.
function useUploadConfig(uppy, configRef, setProblem) {
  useEffect(() => {
    api(`${UPLOADS}/config`)
      .then((config) => {
        configRef.current = config
        uppy.setOptions({ restrictions: { ...uppy.opts.restrictions, maxFileSize: config.max_bytes } })
        setProblem('')
      })
      .catch((e) => setProblem(e.message))
  }, [uppy, configRef, setProblem])
}

// What the uppy's uploads end in: an asset per success, a problem per failure.
function useUploadResults(uppy, { setAssets, setProblem, setSubtitles }) {
  useEffect(() => {
    const onSuccess = (file, response) => {
      const assetId = response?.body?.asset_id
      if (assetId) setAssets((list) => [...list, { name: file.name, assetId }])
    }
    const onError = (file, error) => setProblem(`${file?.name || 'Upload'}: ${error?.message || error}`)
    // the subtitles went with this upload: the next one starts with none (kept after a
    // failure, so a retry sends them again)
    const onComplete = (result) => {
      if (result.successful?.length && !result.failed?.length) setSubtitles([])
    }
    uppy.on('upload-success', onSuccess)
    uppy.on('upload-error', onError)
    uppy.on('complete', onComplete)
    return () => {
      uppy.off('upload-success', onSuccess)
      uppy.off('upload-error', onError)
      uppy.off('complete', onComplete)
    }
  }, [uppy, setAssets, setProblem, setSubtitles])
}

export default function PrimeVODUploader() {
  const configRef = useRef({ part_size: 16 * MIB, min_part_size: 5 * MIB, max_parts: 10000 })
  const subtitlesRef = useRef([])
  const uppy = useMemo(() => makeUppy(configRef, subtitlesRef), [])
  const [assets, setAssets] = useState([])
  const [problem, setProblem] = useState('')
  const [subtitles, setSubtitles] = useState([])

  useEffect(() => {
    subtitlesRef.current = subtitles
  }, [subtitles])
  useUploadConfig(uppy, configRef, setProblem)
  useUploadResults(uppy, { setAssets, setProblem, setSubtitles })
  useEffect(() => () => uppy.destroy(), [uppy])

  return (
    <section className="uploader">
      {problem && <p className="problem" role="alert">{problem}</p>}
      <Dashboard
        uppy={uppy}
        width="100%"
        height={380}
        showProgressDetails
        proudlyDisplayPoweredByUppy={false}
        metaFields={META_FIELDS}
        note="Video or audio files. Uploads resume after a reload or a lost connection."
      />
      <SubtitlePicker tracks={subtitles} onChange={setSubtitles} />
      <RecentUploads fresh={assets.length} />
    </section>
  )
}
