import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { ApiError, api } from './api.js'

// /dashboard (admin role): the pipeline's and the edge's metrics over a window, alarm states,
// recent failures, queue depth and the canary's history, from GET /api/v1/dashboard.

const WINDOWS = [
  { minutes: 15, label: '15 min' },
  { minutes: 60, label: '1 h' },
  { minutes: 360, label: '6 h' },
  { minutes: 1440, label: '24 h' },
]
const REFRESH_MS = 15_000

const COLORS = {
  blue: '#2456a6',
  green: '#1f7a3a',
  red: '#c0392b',
  amber: '#b7791f',
  purple: '#6b46c1',
  grey: '#69707a',
}

// ---- number and time formatting ---------------------------------------------------------

const nf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 })

export function formatBytes(n) {
  if (n == null) return '–'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let v = Math.abs(n)
  let i = 0
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i += 1 }
  return `${n < 0 ? '-' : ''}${nf.format(v)} ${units[i]}`
}

export function formatAge(seconds) {
  if (seconds == null) return '–'
  const s = Math.round(seconds)
  if (s < 60) return `${s} s`
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return m ? `${h} h ${m} min` : `${h} h`
}

const formatCount = (v) => (v == null ? '–' : nf.format(v))
const formatPercent = (v) => (v == null ? '–' : `${nf.format(v * 100)} %`)
const formatMs = (v) => (v == null ? '–' : `${nf.format(v)} ms`)
const formatFactor = (v) => (v == null ? '–' : `${nf.format(v)}×`)
const formatSeconds = (v) => (v == null ? '–' : `${nf.format(v)} s`)

function formatTime(iso) {
  if (!iso) return '–'
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString()
}

// ---- charts -----------------------------------------------------------------------------

// The charts: which series each one draws, on which axis, in which unit.
const CHARTS = [
  {
    id: 'workflows', title: 'Workflows', unit: formatCount, lines: [
      { key: 'workflows_started', label: 'started', color: COLORS.blue },
      { key: 'workflows_succeeded', label: 'succeeded', color: COLORS.green },
      { key: 'workflows_failed', label: 'failed', color: COLORS.red },
    ],
  },
  {
    id: 'requests', title: 'Delivery requests by status', unit: formatCount, lines: [
      { key: 'requests_2xx', label: '2xx', color: COLORS.green },
      { key: 'requests_3xx', label: '3xx', color: COLORS.blue },
      { key: 'requests_4xx', label: '4xx', color: COLORS.amber },
      { key: 'requests_5xx', label: '5xx', color: COLORS.red },
    ],
  },
  {
    id: 'bytes-out', title: 'Bytes out', unit: formatBytes, lines: [
      { key: 'bytes_out', label: 'bytes out', color: COLORS.purple },
    ],
  },
  {
    id: 'cache-hit', title: 'Edge cache hit ratio', unit: formatPercent, ratio: true, lines: [
      { key: 'cache_hit_ratio', label: 'hit ratio', color: COLORS.green },
    ],
  },
  {
    id: 'latency', title: 'Latency p95', unit: formatMs, lines: [
      { key: 'origin_latency_p95_ms', label: 'origin (cache misses)', color: COLORS.amber },
      { key: 'api_latency_p95_ms', label: 'API', color: COLORS.blue },
    ],
  },
  {
    id: 'queue', title: 'Queue', unit: formatCount, unit2: formatSeconds, lines: [
      { key: 'queue_depth', label: 'jobs waiting or running', color: COLORS.blue },
      { key: 'queue_oldest_age_seconds', label: 'oldest job age', color: COLORS.grey, axis: 2 },
    ],
  },
  {
    id: 'steps', title: 'Workflow step duration (mean)', unit: formatSeconds, lines: [
      { key: 'step_seconds_ingest', label: 'ingest', color: COLORS.grey },
      { key: 'step_seconds_process', label: 'process', color: COLORS.blue },
      { key: 'step_seconds_quality', label: 'quality', color: COLORS.purple },
      { key: 'step_seconds_publish', label: 'publish', color: COLORS.green },
    ],
  },
  {
    id: 'encode', title: 'Encode speed (realtime factor)', unit: formatFactor, lines: [
      { key: 'encode_realtime_factor', label: 'realtime factor', color: COLORS.purple },
    ],
  },
  {
    id: 'uploads', title: 'Uploads', unit: formatCount, unit2: formatBytes, lines: [
      { key: 'uploads_started', label: 'started', color: COLORS.amber },
      { key: 'uploads_completed', label: 'completed', color: COLORS.blue },
      { key: 'uploads_rejected', label: 'rejected (bad source)', color: COLORS.red },
      { key: 'upload_bytes', label: 'bytes', color: COLORS.grey, axis: 2 },
    ],
  },
  {
    id: 'canary', title: 'Canary checks', unit: formatCount, lines: [
      { key: 'canary_passed', label: 'passed', color: COLORS.green },
      { key: 'canary_failed', label: 'failed', color: COLORS.red },
    ],
  },
]

// The first minute with any value in any series (null: none); every chart starts there, so
// the charts share one time axis that spans what was recorded, not an empty window.
export function firstDataTime(series) {
  let first = null
  for (const points of Object.values(series || {})) {
    for (const point of points || []) {
      if (Array.isArray(point) && Number.isFinite(point[0]) && Number.isFinite(point[1])) {
        if (first === null || point[0] < first) first = point[0]
      }
    }
  }
  return first
}

const MIN_SPAN_MINUTES = 10 // a lone minute still gets an axis people can read

// The minutes a chart spans: from the first recorded minute (but at least the last
// MIN_SPAN_MINUTES, and never more than the window) to the current one.
export function timeFrame({ minutes, step, end }, first) {
  const s = step || 60
  const last = Math.floor(end / s) * s
  const windowStart = last - (minutes * 60 - s)
  const shortest = last - (Math.min(minutes, MIN_SPAN_MINUTES) * 60 - s)
  const start = first === null ? shortest : Math.min(shortest, Math.max(windowStart, first))
  return { start, last, step: s }
}

// [[t, v], ...] per series -> uPlot's columns [xs, ys1, ys2, ...] on the frame's minutes
// (a minute with no value is a gap).
export function alignSeries(series, keys, { start, last, step }) {
  const xs = []
  for (let t = start; t <= last; t += step) xs.push(t)
  const byKey = keys.map((key) => {
    const map = new Map()
    for (const point of (series && series[key]) || []) {
      if (Array.isArray(point) && Number.isFinite(point[0])) {
        map.set(point[0], Number.isFinite(point[1]) ? point[1] : null)
      }
    }
    return map
  })
  return [xs, ...byKey.map((map) => xs.map((t) => (map.has(t) ? map.get(t) : null)))]
}

// An axis as wide as its longest label (plus its ticks and gap), so no label is cut off
// whatever the unit: "1,234.5 ms" needs more room than "2".
function fittedSize(u, values, axisIdx, cycleNum) {
  const axis = u.axes[axisIdx]
  if (cycleNum > 1) return axis._size // uPlot asks again while it settles: keep the first answer
  let size = (axis.ticks?.size ?? 10) + (axis.gap ?? 5) + 6
  const longest = (values || []).reduce((a, v) => (String(v).length > a.length ? String(v) : a), '')
  if (longest) {
    u.ctx.font = axis.font?.[0] ?? '12px system-ui'
    size += u.ctx.measureText(longest).width / (window.devicePixelRatio || 1)
  }
  return Math.ceil(size)
}

// whole-number ticks for counts (no "0.5 requests")
const COUNT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6, 1e7]

// Dots for every minute on short windows; on long ones only for values with no neighbour
// (a line needs two points, so a lone minute between empty ones would not show otherwise).
function dotIndexes(u, seriesIdx, show) {
  const ys = u.data[seriesIdx]
  if (show || ys.length <= 120) return null
  const lone = []
  for (let i = 0; i < ys.length; i += 1) {
    if (ys[i] != null && ys[i - 1] == null && ys[i + 1] == null) lone.push(i)
  }
  return lone
}

const hasValues = (columns) => columns.slice(1).some((ys) => ys.some((v) => v != null))

function yRange(ratio) {
  return (u, min, max) => {
    if (ratio) return [0, 1]
    if (min == null || max == null) return [0, 1]
    const top = max <= 0 ? 1 : max * 1.1
    return [Math.min(0, min), top]
  }
}

// The y axes of a chart: its unit on the left, and a second unit on the right if it has one.
function yAxes(spec) {
  const left = {
    scale: 'y',
    stroke: COLORS.grey,
    grid: { stroke: '#eceef1' },
    size: fittedSize,
    ...(spec.unit === formatCount ? { incrs: COUNT_INCRS } : {}),
    values: (u, ticks) => ticks.map((t) => spec.unit(t)),
  }
  if (!spec.unit2) return [left]
  const right = {
    scale: 'y2',
    side: 1,
    stroke: COLORS.grey,
    grid: { show: false },
    size: fittedSize,
    values: (u, ticks) => ticks.map((t) => spec.unit2(t)),
  }
  return [left, right]
}

// The time series first, then one line per spec line on its axis.
function chartSeries(spec) {
  return [
    { value: (u, v) => (v == null ? '–' : new Date(v * 1000).toLocaleTimeString()) },
    ...spec.lines.map((line) => ({
      label: line.label,
      stroke: line.color,
      width: 2,
      scale: line.axis === 2 ? 'y2' : 'y',
      spanGaps: false,
      // a value between two empty minutes still shows as a dot
      points: { show: (u) => u.data[0].length <= 120, size: 5, fill: line.color, filter: dotIndexes },
      value: (u, v) => (line.axis === 2 ? spec.unit2 : spec.unit)(v),
    })),
  ]
}

// uPlot's own axis font, to measure labels as it draws them
const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif'
// the widest labels the time axis draws on the dashboard's spans: a time, a date under it
const WIDEST_TIME_LABELS = ['12:00pm', '12/31/26']

// Room at the right for the last time label, centred on its tick, when no axis is there.
// A label sits on the right edge whenever the last minute falls on a tick, so the room is
// half the widest label, whatever the clock says.
function timeLabelRoom() {
  const ctx = document.createElement('canvas').getContext('2d')
  ctx.font = AXIS_FONT
  const widest = Math.max(...WIDEST_TIME_LABELS.map((t) => ctx.measureText(t).width))
  return Math.ceil(widest / 2) + 4
}

// uPlot's options for a chart `width` wide drawn into the `box` ref's element.
function chartOptions(spec, box, width) {
  return {
    width,
    height: 180,
    legend: { show: true, live: true },
    padding: [12, spec.unit2 ? 8 : timeLabelRoom(), 0, 8],
    hooks: {
      // the span drawn, for people reading the page source and for the tests
      setScale: [(u, key) => {
        if (key !== 'x') return
        box.current.dataset.xMin = String(u.scales.x.min)
        box.current.dataset.xMax = String(u.scales.x.max)
      }],
    },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true },
      y: { range: yRange(spec.ratio) },
      y2: { range: yRange(false) },
    },
    axes: [{ stroke: COLORS.grey, grid: { stroke: '#eceef1' } }, ...yAxes(spec)],
    series: chartSeries(spec),
  }
}

// A uPlot chart of `spec` in the returned ref's element, built once per spec, following its
// element's width, with new `columns` handed to the same chart.
function usePlot(spec, columns) {
  const box = useRef(null)
  const plot = useRef(null)

  useEffect(() => {
    const el = box.current
    plot.current = new uPlot(chartOptions(spec, box, Math.max(240, el.clientWidth)), columns, el)
    const resize = new ResizeObserver(() => {
      const w = Math.max(240, el.clientWidth)
      if (plot.current && Math.abs(plot.current.width - w) > 1) {
        plot.current.setSize({ width: w, height: 180 })
      }
    })
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.current.destroy()
      plot.current = null
    }
    // the chart is built once per spec; new data goes through setData below
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [spec])

  useEffect(() => {
    if (plot.current) plot.current.setData(columns)
  }, [columns])
  return box
}

function Chart({ spec, columns }) {
  const box = usePlot(spec, columns)
  const empty = !hasValues(columns)
  return (
    <figure className="chart" data-testid={`chart-${spec.id}`} data-empty={empty ? 'true' : 'false'}>
      <figcaption>{spec.title}</figcaption>
      <div className="chart-plot">
        <div ref={box} />
        {empty && <p className="chart-empty" data-testid="chart-empty">No data yet</p>}
      </div>
    </figure>
  )
}

// ---- tables and tiles -------------------------------------------------------------------

const STATE_CLASS = { OK: 'ok', ALARM: 'alarm', INSUFFICIENT_DATA: 'insufficient' }

function StateBadge({ state }) {
  const kind = STATE_CLASS[state] || 'insufficient'
  return (
    <span className={`badge badge-${kind}`} data-testid="alarm-state" data-state={state}>
      {state === 'INSUFFICIENT_DATA' ? 'INSUFFICIENT DATA' : state || 'UNKNOWN'}
    </span>
  )
}

function Alarms({ alarms }) {
  if (!alarms.length) return <p className="muted" data-testid="alarms-empty">No alarms defined.</p>
  return (
    <table className="grid-table" data-testid="alarms">
      <thead>
        <tr><th>Alarm</th><th>State</th><th>Condition</th><th>Reason</th><th>Updated</th></tr>
      </thead>
      <tbody>
        {alarms.map((a) => (
          <tr key={a.name} data-testid="alarm-row" data-state={a.state}>
            <td className="nowrap" title={a.description || undefined}>{a.name}</td>
            <td><StateBadge state={a.state} /></td>
            <td className="mono">
              {a.statistic}({a.metric}) {a.comparison} {a.threshold}
              {a.period_seconds ? ` over ${formatAge(a.period_seconds)}` : ''}
            </td>
            <td>{a.reason || '–'}</td>
            <td className="nowrap">{formatTime(a.updated_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function Failures({ failures }) {
  if (!failures.length) {
    return <p className="muted" data-testid="failures-empty">No failures in this window.</p>
  }
  return (
    <table className="grid-table" data-testid="failures">
      <thead>
        <tr><th>Asset</th><th>Code</th><th>Step</th><th>Message</th><th>When</th></tr>
      </thead>
      <tbody>
        {failures.map((f, i) => (
          <tr key={`${f.asset_id}-${f.at}-${i}`} data-testid="failure-row" data-code={f.code}>
            <td>
              {f.asset_id
                ? <a href={`/watch/${f.asset_id}`}>{f.title || f.asset_id}</a>
                : f.title || '–'}
            </td>
            <td className="mono" data-testid="failure-code">{f.code || '–'}</td>
            <td>{f.step || '–'}</td>
            <td className="message">{f.message || '–'}</td>
            <td className="nowrap">{formatTime(f.at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function Canary({ runs }) {
  if (!runs.length) return <p className="muted" data-testid="canary-empty">No canary runs yet.</p>
  return (
    <table className="grid-table" data-testid="canary">
      <thead>
        <tr><th>When</th><th>Result</th><th>URL</th><th>Failed checks</th><th>Took</th></tr>
      </thead>
      <tbody>
        {runs.map((run, i) => (
          <tr key={`${run.at}-${i}`} data-testid="canary-row" data-passed={run.passed ? 'true' : 'false'}>
            <td className="nowrap">{formatTime(run.at)}</td>
            <td>
              <span className={`badge badge-${run.passed ? 'ok' : 'alarm'}`}>
                {run.passed ? 'PASS' : 'FAIL'}
              </span>
            </td>
            <td className="url">{run.url || '–'}</td>
            <td>
              {run.failed && run.failed.length ? (
                <ul className="checks">
                  {run.failed.map((c, j) => (
                    <li key={j}><span className="mono">{c.rule}</span>{c.message ? `: ${c.message}` : ''}</li>
                  ))}
                </ul>
              ) : run.error || '–'}
            </td>
            <td className="nowrap">{run.duration_ms == null ? '–' : `${nf.format(run.duration_ms)} ms`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function Tile({ testid, label, value, warn }) {
  return (
    <div className={`tile${warn ? ' tile-warn' : ''}`}>
      <span className="tile-label">{label}</span>
      <strong data-testid={testid}>{value}</strong>
    </div>
  )
}

function formatUsd(value) {
  if (value === null || value === undefined) return '–'
  if (value === 0 || value >= 1) return `$${value.toFixed(2)}`
  return value >= 0.001 ? `$${value.toFixed(4)}` : `$${value.toFixed(6)}`
}

function formatError(value) {
  if (value === null || value === undefined) return '–'
  return `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} %`
}

// spend this month against the budget, and the latest jobs' estimate and actual
function Cost({ cost }) {
  if (!cost) return null
  const used = cost.used_ratio
  const level = used === null ? 'ok' : used >= 1 ? 'alarm' : used >= 0.8 ? 'warn' : 'ok'
  const jobs = (cost.jobs || []).slice(0, 10)
  return (
    <div data-testid="cost">
      <div className="tiles">
        <Tile testid="cost-spent" label={`Spent in ${cost.month} (${cost.target})`} value={formatUsd(cost.spent_usd)} warn={level !== 'ok'} />
        <Tile testid="cost-budget" label="Monthly budget" value={cost.budget_usd ? formatUsd(cost.budget_usd) : 'none'} />
        <Tile testid="cost-used" label="Budget used" value={used === null ? '–' : formatPercent(used)} warn={level !== 'ok'} />
        <Tile testid="cost-jobs" label="Jobs (refused)" value={`${cost.totals.jobs} (${cost.totals.refused})`} />
        <Tile testid="cost-cpu" label="Encode CPU-seconds" value={formatCount(cost.totals.cpu_seconds)} />
      </div>
      {used !== null && (
        <meter className="budget-meter" data-testid="cost-meter" min="0" max="1" low="0.8" high="0.99" optimum="0" value={Math.min(used, 1)}
          aria-label="Share of the monthly budget spent">{formatPercent(used)}</meter>
      )}
      {jobs.length === 0
        ? <p className="muted" data-testid="cost-empty">No job this month yet.</p>
        : (
          <table className="grid-table" data-testid="cost-jobs-table">
            <thead>
              <tr><th>Asset</th><th>Ladder</th><th>State</th><th>Estimate</th><th>Actual</th><th>CPU s (est.)</th><th>Error</th></tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job.execution_id} data-testid="cost-row" data-state={job.state}>
                  <td><a href={`/watch/${job.asset_id}`} className="mono">{job.asset_id.slice(0, 8)}</a></td>
                  <td>{job.ladder || '–'}</td>
                  <td>{job.state}{job.override ? ' (override)' : ''}</td>
                  <td>{formatUsd(job.estimate_usd)}</td>
                  <td>{formatUsd(job.actual_usd)}</td>
                  <td>
                    {job.cpu_seconds === null ? '–' : job.cpu_seconds.toFixed(1)}
                    {job.estimate_cpu_seconds === null ? '' : ` (${job.estimate_cpu_seconds.toFixed(1)})`}
                  </td>
                  <td>{formatError(job.cpu_error)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </div>
  )
}

// how playback went for viewers in the window (the players' beacons), and where it went worst
function Viewers({ viewers }) {
  if (!viewers) return null
  const stalling = viewers.rebuffer_ratio >= 0.02
  return (
    <div data-testid="viewers">
      <div className="tiles">
        <Tile testid="viewers-plays" label="Plays" value={formatCount(viewers.plays)} />
        <Tile testid="viewers-watch" label="Watch time" value={formatSeconds(Math.round(viewers.watch_seconds))} />
        <Tile testid="viewers-startup" label="Startup p95" value={formatMs(viewers.startup_p95_ms === null ? null : Math.round(viewers.startup_p95_ms))} warn={viewers.startup_p95_ms > 3000} />
        <Tile testid="viewers-rebuffer" label="Rebuffer ratio" value={formatPercent(viewers.rebuffer_ratio)} warn={stalling} />
        <Tile testid="viewers-errors" label="Player errors" value={formatCount(viewers.errors)} warn={viewers.errors > 0} />
      </div>
      {viewers.worst_assets.length === 0
        ? <p className="muted" data-testid="viewers-empty">No playback in this window.</p>
        : (
          <table className="grid-table" data-testid="viewers-worst">
            <thead>
              <tr><th>Asset</th><th>Plays</th><th>Watch time</th><th>Startup p95</th><th>Rebuffer ratio</th><th>Errors</th></tr>
            </thead>
            <tbody>
              {viewers.worst_assets.map((row) => (
                <tr key={row.asset_id} data-testid="viewers-row">
                  <td><a href={`/watch/${row.asset_id}`} className="mono">{row.asset_id.slice(0, 8)}</a></td>
                  <td>{formatCount(row.plays)}</td>
                  <td>{formatSeconds(Math.round(row.watch_seconds))}</td>
                  <td>{formatMs(row.startup_p95_ms === null ? null : Math.round(row.startup_p95_ms))}</td>
                  <td>{formatPercent(row.rebuffer_ratio)}</td>
                  <td>{formatCount(row.errors)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </div>
  )
}

function Tiles({ data }) {
  const t = data.totals || {}
  const q = data.queue || {}
  return (
    <div className="tiles" data-testid="tiles">
      <Tile testid="queue-depth" label="Queue depth" value={formatCount(q.depth ?? null)} warn={q.depth > 0} />
      <Tile testid="queue-oldest" label="Oldest job waiting" value={formatAge(q.oldest_age_seconds)} />
      <Tile testid="total-workflows-failed" label="Failed workflows" value={formatCount(t.workflows_failed ?? null)} warn={t.workflows_failed > 0} />
      <Tile testid="total-uploads-rejected" label="Rejected uploads" value={formatCount(t.uploads_rejected ?? null)} />
      <Tile testid="total-requests-5xx" label="5xx responses" value={formatCount(t.requests_5xx ?? null)} warn={t.requests_5xx > 0} />
      <Tile testid="total-cache-hit" label="Cache hit ratio" value={formatPercent(t.cache_hit_ratio ?? null)} />
      <Tile testid="total-latency" label="Origin p95" value={formatMs(t.origin_latency_p95_ms ?? null)} />
    </div>
  )
}

// ---- the page ---------------------------------------------------------------------------

function problemWords(error) {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'You are not signed in, or your session has ended. Sign in again.'
    if (error.status === 403) return 'Your key may not see the dashboard: it needs the admin role.'
    return error.message
  }
  return `Could not reach the server (${error.message}).`
}

function initialMinutes() {
  const asked = Number(new URLSearchParams(window.location.search).get('minutes'))
  return WINDOWS.some((w) => w.minutes === asked) ? asked : 60
}

// The time window shown (minutes), kept in the page's address (?minutes=).
function useWindow() {
  const [minutes, setMinutes] = useState(initialMinutes)
  const chooseWindow = useCallback((m) => {
    setMinutes(m)
    const url = new URL(window.location.href)
    url.searchParams.set('minutes', String(m))
    window.history.replaceState(null, '', url)
  }, [])
  return [minutes, chooseWindow]
}

// GET /api/v1/dashboard for the window, again on `refresh` and every 15 s while the tab is
// visible. A refused session clears the data shown; other problems leave it.
function useDashboardData(minutes) {
  const [data, setData] = useState(null)
  const [problem, setProblem] = useState('')
  const [loading, setLoading] = useState(false)
  const [updated, setUpdated] = useState(null)
  const [tick, setTick] = useState(0)

  useEffect(() => {
    const controller = new AbortController()
    setLoading(true)
    api(`/api/v1/dashboard?minutes=${minutes}`, { signal: controller.signal })
      .then((body) => {
        setData(body)
        setProblem('')
        setUpdated(new Date())
      })
      .catch((e) => {
        if (e.name === 'AbortError') return
        setProblem(problemWords(e))
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) setData(null)
      })
      .finally(() => { if (!controller.signal.aborted) setLoading(false) })
    return () => controller.abort()
  }, [minutes, tick])

  useEffect(() => {
    const timer = window.setInterval(() => {
      if (!document.hidden) setTick((n) => n + 1)
    }, REFRESH_MS)
    return () => window.clearInterval(timer)
  }, [])

  const refresh = () => setTick((n) => n + 1)
  return { data, problem, loading, updated, refresh }
}

// Each chart's columns (time first), on one time frame for all charts.
function chartColumns(data, minutes) {
  const end = Date.parse(data.generated_at) / 1000 || Date.now() / 1000
  const shown = { minutes: data.minutes || minutes, step: data.step_seconds || 60, end }
  const frame = timeFrame(shown, firstDataTime(data.series))
  return Object.fromEntries(CHARTS.map((spec) => [
    spec.id, alignSeries(data.series, spec.lines.map((l) => l.key), frame),
  ]))
}

// The heading with the window buttons, Refresh, and when the data was fetched.
function DashBar({ minutes, onWindow, onRefresh, loading, updated }) {
  return (
    <div className="dash-bar">
      <h2>Dashboard</h2>
      <div className="windows" role="group" aria-label="Time window">
        {WINDOWS.map((w) => (
          <button
            key={w.minutes}
            type="button"
            className={w.minutes === minutes ? 'on' : ''}
            aria-pressed={w.minutes === minutes}
            data-testid={`window-${w.minutes}`}
            onClick={() => onWindow(w.minutes)}
          >
            {w.label}
          </button>
        ))}
      </div>
      <button type="button" className="refresh" onClick={onRefresh}>
        Refresh
      </button>
      <span className="muted" data-testid="updated">
        {loading ? 'Loading…' : updated ? `Updated ${updated.toLocaleTimeString()} · every 15 s` : ''}
      </span>
    </div>
  )
}

function Panels({ data, columns }) {
  return (
    <>
      <Tiles data={data} />
      <div className="charts">
        {CHARTS.map((spec) => <Chart key={spec.id} spec={spec} columns={columns[spec.id]} />)}
      </div>
      <h3>Alarms</h3>
      <Alarms alarms={data.alarms || []} />
      <h3>Recent failures</h3>
      <Failures failures={data.failures || []} />
      <h3>Canary history</h3>
      <Canary runs={data.canary || []} />
      <h3>Viewers</h3>
      <Viewers viewers={data.viewers} />
      <h3>Cost</h3>
      <Cost cost={data.cost} />
    </>
  )
}

export default function Dashboard() {
  const [minutes, chooseWindow] = useWindow()
  const { data, problem, loading, updated, refresh } = useDashboardData(minutes)
  const columns = useMemo(() => (data ? chartColumns(data, minutes) : null), [data, minutes])
  return (
    <section className="dashboard" data-testid="dashboard">
      <DashBar minutes={minutes} onWindow={chooseWindow} onRefresh={refresh} loading={loading} updated={updated} />
      {problem && <p className="problem" role="alert" data-testid="dashboard-problem">{problem}</p>}
      {data && columns && <Panels data={data} columns={columns} />}
    </section>
  )
}
