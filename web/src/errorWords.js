// An asset's failure in plain words, by its stable error code (core/errors.py); codes not
// listed here fall back to the server's own one-line message.
const WORDS = {
  'source.missing': 'The uploaded file could not be found.',
  'source.expired': 'The original file was removed by the retention rules, so this video cannot be encoded again.',
  'source.empty': 'The file is empty.',
  'source.unreadable': 'This file is not a video or audio file that can be read.',
  'source.truncated': 'The file is cut short or damaged: it cannot be read to its end.',
  'source.no_video': 'The file has no video picture.',
  'source.no_streams': 'The file has neither picture nor sound.',
  'source.unsupported_codec': 'The file uses a video or audio format that cannot be decoded.',
  'source.dimensions': 'The picture is too small or too large.',
  'source.duration': 'The video is too short, or its length is unknown.',
  'source.too_long': 'The video is longer than this server accepts.',
  'source.frame_rate': 'The frame rate is missing or out of range.',
  'ladder.unknown_policy': 'The requested ladder policy does not exist.',
  'ladder.empty': 'No output size fits this video.',
  'encode.failed': 'Encoding failed.',
  'encode.cancelled': 'Processing was cancelled.',
  'package.invalid': 'The encoded video failed its final checks.',
  'quality.below_target': 'The encoded video did not reach its quality target.',
  'quality.unmeasured': 'The quality of the encoded video could not be measured.',
  'workflow.cancelled': 'Processing was cancelled.',
  'workflow.step_failed': 'A processing step kept failing after several attempts.',
  'workflow.failed': 'Processing stopped without a result.',
  'budget.exceeded': 'Refused: this job would take the month past its budget.',
}

export function failureWords(code, message) {
  return WORDS[code] || message || 'Processing failed.'
}
