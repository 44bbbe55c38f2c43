// Two Ajv instances: bodies are checked strictly (a number is not a string: JSON has types),
// while path and query parameters, which arrive as text, are coerced to their declared types.
import { Ajv, type ErrorObject, type Options } from "ajv";
import addFormatsModule from "ajv-formats";
import type { FastifySchemaCompiler } from "fastify";
import type { FieldError } from "./errors.js";

// ajv-formats is CommonJS; under NodeNext its default export arrives one level down.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const common: Options = {
  allErrors: true,
  removeAdditional: true,
  useDefaults: true,
  // TypeBox adds `kind` and friends; the OpenAPI generator reads `example` and similar.
  strict: false,
};

/** One address, no display name. Surrounding white space is allowed here and trimmed by the operation. */
const EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:".]+$/;

function makeAjv(coerceTypes: false | "array"): Ajv {
  const ajv = addFormats(new Ajv({ ...common, coerceTypes }));
  ajv.addFormat("email", (value: string) => EMAIL.test(value.trim()));
  return ajv;
}

const bodyAjv = makeAjv(false);
const paramsAjv = makeAjv("array");

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === "body" ? bodyAjv : paramsAjv).compile(schema) as ReturnType<FastifySchemaCompiler<object>>;

const MESSAGES: Record<string, (e: ErrorObject) => string> = {
  required: () => "is required",
  type: (e) => `must be ${e.params.type === "integer" ? "a whole number" : `a ${e.params.type}`}`,
  minLength: (e) => `must be at least ${e.params.limit} characters`,
  maxLength: (e) => `must be at most ${e.params.limit} characters`,
  minimum: (e) => `must be at least ${e.params.limit}`,
  maximum: (e) => `must be at most ${e.params.limit}`,
  enum: (e) => `must be one of: ${(e.params.allowedValues as unknown[]).join(", ")}`,
  const: (e) => `must be ${JSON.stringify(e.params.allowedValue)}`,
  format: (e) =>
    e.params.format === "email" ? "must be an e-mail address" : `must be a valid ${e.params.format}`,
  pattern: () => "has an invalid format",
  additionalProperties: () => "is not allowed",
};

/** Turns Ajv's errors into `[{field, message}]`, one entry per field, in the order found. */
export function fieldErrors(errors: ErrorObject[], part: string): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    let path = e.instancePath.replace(/^\//, "").replaceAll("/", ".");
    if (e.keyword === "required")
      path = path ? `${path}.${e.params.missingProperty}` : e.params.missingProperty;
    if (e.keyword === "additionalProperties") {
      path = path ? `${path}.${e.params.additionalProperty}` : e.params.additionalProperty;
    }
    const field = path || part;
    if (out.some((f) => f.field === field)) continue;
    const message = MESSAGES[e.keyword]?.(e) ?? e.message ?? "is invalid";
    out.push({ field, message });
  }
  return out;
}
