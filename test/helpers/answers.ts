// The suite holds the server to its own OpenAPI document: every answer a test receives through the
// shared clients (testApp's request(), a server process's call(), the fuzzer's inject) is checked
// against the response the document gives for that operation and status. An answer that differs
// (a field of another type, a missing field, a status or content type the document does not list)
// fails the test that made the request, naming the operation, the status and what differs.
// Requests that reach no documented operation (/healthz, an unknown route, the console) are not
// checked: the document says nothing about them.
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS; under NodeNext its default export arrives one level down.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const METHODS = ["get", "put", "post", "delete", "patch"] as const;

interface MediaType {
  schema?: unknown;
}
interface Operation {
  operationId?: string;
  responses: Record<string, { content?: Record<string, MediaType> }>;
}
export interface OpenApiDocument {
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components?: unknown;
}

/** What a test client received. */
export interface ReceivedAnswer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  /** The raw body. */
  text: string;
}

interface Route {
  template: string;
  pattern: RegExp;
  /** Fewer parameters first: /invitations/lookup before /invitations/{id}. */
  params: number;
}

const DOCUMENT_ID = "rollcall-openapi.json";

export class AnswerChecker {
  private readonly ajv: Ajv;
  private readonly routes: Route[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly document: OpenApiDocument) {
    // The document is one schema resource: the responses' `#/components/schemas/…` references
    // resolve inside it, as they do for any reader of the document.
    this.ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
    this.ajv.addSchema({ ...document, $id: DOCUMENT_ID });
    this.routes = Object.keys(document.paths)
      .map((template) => {
        const source = template
          .split(/(\{[^}]+\})/)
          .map((part) => (part.startsWith("{") ? "[^/]+" : part.replace(/[.*+?^$()|[\]\\]/g, "\\$&")))
          .join("");
        return { template, pattern: new RegExp(`^${source}/?$`), params: template.split("{").length - 1 };
      })
      .sort((a, b) => a.params - b.params);
  }

  /** The documented operation a request reaches, if any. */
  operation(method: string, url: string): { template: string; name: string; op: Operation } | undefined {
    const verb = method.toLowerCase() as (typeof METHODS)[number];
    if (!METHODS.includes(verb)) return undefined;
    const path = url.split(/[?#]/, 1)[0] ?? "";
    for (const route of this.routes) {
      const op = this.document.paths[route.template]?.[verb];
      if (op && route.pattern.test(path)) {
        return {
          template: route.template,
          name: `${op.operationId ?? "?"} (${method} ${route.template})`,
          op,
        };
      }
    }
    return undefined;
  }

  /** What is wrong with an answer, by the document; undefined when it is as documented. */
  problem(method: string, url: string, answer: ReceivedAnswer): string | undefined {
    const found = this.operation(method, url);
    if (!found) return undefined;
    const { template, name, op } = found;
    const response = op.responses[String(answer.status)];
    if (!response) {
      const listed = Object.keys(op.responses).join(", ");
      return `${name} answered ${answer.status}, which the document does not list (it lists ${listed}): ${answer.text.slice(0, 300)}`;
    }
    const content = response.content ?? {};
    const types = Object.keys(content);
    if (types.length === 0) {
      return answer.text === ""
        ? undefined
        : `${name} answered ${answer.status} with a body the document says it has not: ${answer.text.slice(0, 300)}`;
    }
    const header = String(answer.headers["content-type"] ?? "");
    const type = header.split(";", 1)[0]?.trim().toLowerCase() ?? "";
    if (!types.includes(type)) {
      return `${name} answered ${answer.status} as "${header}", not as the document's ${types.join(" or ")}`;
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      return `${name} answered ${answer.status} with a body that is not JSON: ${answer.text.slice(0, 300)}`;
    }
    const validate = this.validator(template, method, answer.status, type);
    if (validate(body)) return undefined;
    const errors = this.ajv.errorsText(validate.errors, { dataVar: "body", separator: "; " });
    return `${name} answered ${answer.status} unlike the document: ${errors}\n${answer.text.slice(0, 500)}`;
  }

  /** Throws when the answer is not as documented. */
  check(method: string, url: string, answer: ReceivedAnswer): void {
    const problem = this.problem(method, url, answer);
    if (problem) throw new Error(`The answer differs from the OpenAPI document: ${problem}`);
  }

  private validator(template: string, method: string, status: number, type: string): ValidateFunction {
    const pointer = [
      "paths",
      template,
      method.toLowerCase(),
      "responses",
      String(status),
      "content",
      type,
      "schema",
    ]
      .map((token) => token.replaceAll("~", "~0").replaceAll("/", "~1"))
      .join("/");
    const key = `${DOCUMENT_ID}#/${pointer}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: key });
      this.validators.set(key, validate);
    }
    return validate;
  }
}

const checkers = new WeakMap<object, AnswerChecker>();

/** The checker for an in-process app's document (one per app: its catalogue shapes its document). */
export function checkerOf(app: { swagger(): unknown }): AnswerChecker {
  let checker = checkers.get(app);
  if (!checker) {
    checker = new AnswerChecker(app.swagger() as OpenApiDocument);
    checkers.set(app, checker);
  }
  return checker;
}

const served = new Map<string, Promise<AnswerChecker>>();

/** The checker for the document a server process serves at `base` (asked for once). */
export function checkerAt(base: string): Promise<AnswerChecker> {
  let checker = served.get(base);
  if (!checker) {
    checker = fetch(`${base}/api/v1/openapi.json`)
      .then(async (res) => {
        if (!res.ok) throw new Error(`${base}/api/v1/openapi.json answered ${res.status}`);
        return new AnswerChecker((await res.json()) as OpenApiDocument);
      })
      .catch((err: unknown) => {
        served.delete(base);
        throw err;
      });
    served.set(base, checker);
  }
  return checker;
}
