// Two Ajv instances: bodies are checked strictly (a number is not a string: JSON has types),
// while path and query parameters, which arrive as text, are coerced to their declared types.
// Past the schema, every string must be text (no NUL, no lone surrogate), and a JSON body must be
// UTF-8: rule 16 (docs/rules.md#rule-16), bad input is refused, never stored in a mangled form.
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { FastifyError, FastifyInstance, FastifySchemaCompiler } from "fastify";
import type { FieldError } from "../core/errors.js";
import { canonicalEmail } from "../email.js";

// ajv-formats is CommonJS; under NodeNext its default export arrives one level down.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const common: Options = {
  allErrors: true,
  // Every property a schema does not name is dropped, not only where a schema says
  // additionalProperties: false (none does). Routes spread bodies into operation inputs, so a
  // stray `orgId` in a body once chose the organisation a workspace or invitation was made in.
  removeAdditional: "all",
  useDefaults: true,
  // TypeBox adds `kind` and friends; the OpenAPI generator reads `example` and similar.
  strict: false,
};

function makeAjv(coerceTypes: false | "array"): Ajv {
  const ajv = addFormats(new Ajv({ ...common, coerceTypes }));
  // The address as it will be stored (src/email.ts): a spelling whose canonical form is not an
  // address is refused here, naming the field, rather than stored or matched in some other form.
  ajv.addFormat("email", (value: string) => canonicalEmail(value) !== undefined);
  return ajv;
}

const bodyAjv = makeAjv(false);
const paramsAjv = makeAjv("array");

// A UTF-16 surrogate without its pair: JSON's \u escapes and nothing else can make one. It is not a
// character; written to PostgreSQL it would become U+FFFD (or fail, depending on the driver).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The first string in `data` that is not text, as an Ajv-shaped error naming where it is. */
function invalidText(data: unknown, path = ""): ErrorObject | undefined {
  if (typeof data === "string") {
    if (!data.includes("\u0000") && !LONE_SURROGATE.test(data)) return undefined;
    return { keyword: "text", instancePath: path, schemaPath: "#", params: {} };
  }
  if (data === null || typeof data !== "object") return undefined;
  for (const [key, value] of Object.entries(data)) {
    const found = invalidText(value, `${path}/${key}`);
    if (found) return found;
  }
  return undefined;
}

type Validator = ((data: unknown, context?: Parameters<ValidateFunction>[1]) => boolean) & {
  errors?: ErrorObject[] | null;
  schemaEnv?: unknown;
};

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  const validate = (httpPart === "body" ? bodyAjv : paramsAjv).compile(schema);
  // Checked after the schema, so only what the schema kept (and coerced) is looked at.
  const checked: Validator = (data, context) => {
    const valid = validate(data, context);
    const bad = valid ? invalidText(data) : undefined;
    checked.errors = bad ? [bad] : validate.errors;
    return valid && !bad;
  };
  // Fastify hands the parent object (which Ajv needs to replace a coerced root) only to a
  // function that has Ajv's schemaEnv.
  checked.schemaEnv = validate.schemaEnv;
  return checked as ReturnType<FastifySchemaCompiler<object>>;
};

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Fastify's JSON body parser reads the body as UTF-8 with replacement: an overlong "/" or an
 * encoded surrogate becomes U+FFFD without a word, and is then stored. This one refuses bytes
 * that are not UTF-8 with 400 malformed_json, then parses exactly as Fastify does (with its
 * refusal of __proto__ and constructor.prototype keys).
 */
export function registerJsonBodyParser(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser("error", "error");
  fastify.removeContentTypeParser("application/json");
  fastify.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    let text: string;
    try {
      text = strictUtf8.decode(body as Buffer);
    } catch {
      const err = new Error("The body is not UTF-8") as FastifyError;
      err.code = "FST_ERR_CTP_INVALID_JSON_BODY";
      err.statusCode = 400;
      done(err, undefined);
      return;
    }
    // Fastify's parser answers through `done`; its type only allows for a promise.
    void parseJson(request, text, done);
  });
}

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
  text: () => "must be text: no NUL characters, no lone surrogates",
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
