import { ReplayRequestRefused } from '../services/replay-request.ts';
import { ApiError, RequestValidationError } from './errors.ts';

/**
 * A refusal of a replay request's checks, answered as the contract says: ErrorResponse, or FastAPI's
 * 422. The replay and its preview both answer with it, so a bad request gets one answer.
 */
export function replayRefusalError(refusal: ReplayRequestRefused): ApiError | RequestValidationError {
  if (refusal.validation) {
    const { loc, type } = refusal.validation;
    return new RequestValidationError([{ loc, msg: refusal.detail, type, input: null }]);
  }
  return new ApiError(refusal.status, refusal.errorCode, refusal.detail);
}
