import { DbAccessError, type DbAccessErrorDetails } from '../core/errors';

/**
 * Why a response broke the REST protocol's rules (see docs/rest-protocol.md#failures):
 * - `cross-origin`: a `next` link or a redirect leads off the base URL's origin, or to a scheme other than http/https;
 * - `redirect`: a redirect loop, too many redirects, or a redirect the browser hides (an opaque redirect);
 * - `line-too-long`: an NDJSON line longer than `maxLineBytes`;
 * - `truncated`: the response announced an end line (`X-Ndjson-End: $end`) and ended without it, or with a wrong count.
 */
export type RestProtocolViolation = 'cross-origin' | 'redirect' | 'line-too-long' | 'truncated';

/**
 * A response broke the protocol in a way that is not a network failure: it
 * is never reported as `offline`, and only `truncated` is retried (when no
 * record of that response was yielded yet). The configured headers are never
 * sent to another origin because of it.
 */
export class RestProtocolError extends DbAccessError {
  override name = 'RestProtocolError';
  /** Which rule was broken. */
  readonly violation: RestProtocolViolation;

  constructor(message: string, details: DbAccessErrorDetails & { violation: RestProtocolViolation }) {
    super(message, { ...details, offline: false });
    this.violation = details.violation;
  }
}
