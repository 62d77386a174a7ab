// The two engines of the player, started on a <video> with a grant keeper (playbackGrant.js):
// hls.js and dash.js, each re-signing every request with the newest grant and retrying once
// after a 403 with a renewed one. `on` receives the levels, the level playing and problems.
import Hls from 'hls.js'
import * as dashjs from 'dashjs'
import { chooseFamily, familyOf } from './codecFamilies.js'

export const EXPIRED = 'The playback link stopped working and could not be renewed. Reload the page to try again.'

// A hls.js load policy whose error retries include one after a 403: the keeper renews the
// grant and the retry (re-signed in xhrSetup, which waits for the renewal) goes through.
function renewingPolicy(policy, keeper) {
  const base = policy.default
  const errorRetry = base.errorRetry || { maxNumRetry: 1, retryDelayMs: 500, maxRetryDelayMs: 1000 }
  const shouldRetry = (config, count, timeout, response, retry) => {
    if (response?.code === 403) return count < 1 && keeper.forbidden()
    return retry
  }
  return { default: { ...base, errorRetry: { ...errorRetry, shouldRetry } } }
}

// Only the levels of the family this browser plays best stay (hls.js removeLevel, from the
// last so the indexes still to visit do not move): ABR then never crosses codecs.
function keepOneFamily(hls, levels) {
  const families = [...new Set(levels.map((l) => familyOf(l.videoCodec)).filter(Boolean))]
  const chosen = chooseFamily(families)
  for (let i = levels.length - 1; i >= 0; i -= 1) {
    const family = familyOf(levels[i].videoCodec)
    if (family && family !== chosen && hls.levels.length > 1) hls.removeLevel(i)
  }
}

export function startHls({ video, keeper, resume, qoe, on }) {
  const startPosition = resume.time > 0 ? resume.time : -1
  const hls = new Hls({
    startPosition,
    autoStartLoad: false, // loading starts once the levels are cut to one codec family
    maxMaxBufferLength: 30, // 30 s ahead at most, however small the rendition: a viewer who stops early costs less egress
    xhrSetup: async (xhr, url) => {
      await keeper.ready()
      xhr.open('GET', keeper.resign(url), true)
      xhr.withCredentials = true // the signed cookies, where the edge is another origin's CDN
    },
    manifestLoadPolicy: renewingPolicy(Hls.DefaultConfig.manifestLoadPolicy, keeper),
    playlistLoadPolicy: renewingPolicy(Hls.DefaultConfig.playlistLoadPolicy, keeper),
    fragLoadPolicy: renewingPolicy(Hls.DefaultConfig.fragLoadPolicy, keeper),
  })
  hls.on(Hls.Events.MANIFEST_PARSED, (_, data) => {
    keepOneFamily(hls, data.levels)
    on.levels(hls.levels.map((l, i) => ({ index: i, height: l.height, bitrate: l.bitrate, codec: l.videoCodec })))
    hls.startLoad(startPosition)
    if (resume.playing) video.play().catch(() => {})
  })
  hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => {
    const switched = hls.levels[data.level]
    qoe.switched(switched?.bitrate, switched?.height)
    on.active({ index: data.level, height: switched?.height, bitrate: switched?.bitrate, codec: switched?.videoCodec })
  })
  hls.on(Hls.Events.ERROR, (_, data) => {
    qoe.error(data.details, data.fatal)
    if (!data.fatal) return
    if (data.response?.code === 403) on.problem(EXPIRED)
    else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError()
    else on.problem(`Playback error (${data.details})`)
  })
  hls.loadSource(keeper.resign(keeper.current().hls_url))
  hls.attachMedia(video)
  return { engine: { kind: 'hls', hls }, stop: () => hls.destroy() }
}

export function startDash({ video, keeper, resume, qoe, on }) {
  const player = dashjs.MediaPlayer().create()
  const events = dashjs.MediaPlayer.events
  // one video AdaptationSet per codec family: the ones of other families are filtered out
  // before dash.js picks a set, so it plays the chosen family and never switches codecs
  const chosen = chooseFamily(keeper.current().codec_families)
  player.registerCustomCapabilitiesFilter((rep) => {
    const family = familyOf(rep.codecs)
    return !family || family === chosen
  })
  player.addRequestInterceptor(async (request) => {
    await keeper.ready()
    request.url = keeper.resign(request.url)
    return request
  })
  player.addResponseInterceptor(async (response) => {
    if (response?.status === 403) keeper.forbidden() // dash.js retries; the retry is re-signed
    return response
  })
  const listVideo = () => {
    const list = player.getRepresentationsByType('video') || []
    on.levels(list.map((r, i) => ({ index: i, height: r.height, bitrate: r.bandwidth, codec: r.codecs })))
    const rep = player.getCurrentRepresentationForType('video')
    if (rep) on.active({ index: list.findIndex((r) => r.id === rep.id), height: rep.height, bitrate: rep.bandwidth, codec: rep.codecs })
  }
  player.on(events.STREAM_INITIALIZED, listVideo)
  player.on(events.QUALITY_CHANGE_RENDERED, (e) => {
    if (e.mediaType !== 'video') return
    const rep = e.newRepresentation || player.getCurrentRepresentationForType('video')
    qoe.switched(rep?.bandwidth, rep?.height)
    const list = player.getRepresentationsByType('video') || []
    on.active({
      index: list.findIndex((r) => r.id === rep?.id), height: rep?.height, bitrate: rep?.bandwidth, codec: rep?.codecs,
    })
  })
  player.on(events.ERROR, (e) => {
    const status = e?.error?.data?.response?.status || e?.error?.code
    qoe.error(e?.error?.code || 'DASH', true)
    on.problem(status === 403 ? EXPIRED : `Playback error (${e?.error?.message || 'DASH'})`)
  })
  const start = resume.time > 0 ? resume.time : undefined
  player.initialize(video, keeper.resign(keeper.current().dash_url), resume.playing, start)
  return { engine: { kind: 'dash', player }, stop: () => player.destroy() }
}
