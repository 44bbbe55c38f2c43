import { ApiError } from "../../api/client";

/** A field the API would refuse, refused before asking it, in the API's own shape. */
export function refuseField(field: string, message: string): ApiError {
  return new ApiError(400, "validation_failed", message, [{ field, message }]);
}

/** The API's message for a field as a sentence: "must be an e-mail address" → "Must be an e-mail address." */
export function asSentence(message: string | undefined): string | undefined {
  if (!message) return message;
  const first = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}
