// The OpenAPI 3.1 document, assembled from the same route table the server registers and the same
// zod schemas it validates with (zod's toJSONSchema writes JSON Schema 2020-12, which OpenAPI 3.1
// uses as is). Paths are assembled by hand: no generator library needed for a dozen routes.
import { z } from "zod";
import { COMPONENT_SCHEMAS } from "./schemas.js";
import type { ComponentName } from "./schemas.js";
import type { ModuleApiEndpoint } from "../federation/module.js";

/** A component schema for application/json, "text" for text/plain, or a schema of its own (a module's). */
type ContentDoc = ComponentName | "text" | z.ZodType;

export interface ResponseDoc {
  readonly description: string;
  readonly content?: ContentDoc;
}

export interface OperationDoc {
  readonly method: "get" | "post";
  /** In hono's syntax (/v1/sessions/:index); converted to OpenAPI's ({index}). */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly admin?: boolean;
  readonly params?: z.ZodObject<Record<string, z.ZodType>>;
  readonly query?: z.ZodObject<Record<string, z.ZodType>>;
  /** Request headers the operation needs (beyond Content-Type and Authorization). */
  readonly headers?: z.ZodObject<Record<string, z.ZodType>>;
  readonly body?: ComponentName | z.ZodType;
  readonly responses: Readonly<Record<number, ResponseDoc>>;
}

type Json = Record<string, unknown>;

const ADMIN_SCHEME = "adminPassword";

export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, "{$1}");
}

function withoutMeta(schema: Json): Json {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

function ref(name: ComponentName): Json {
  return { $ref: `#/components/schemas/${name}` };
}

function componentSchemas(): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENT_SCHEMAS)) registry.add(schema, { id });
  // io "input": objects a client receives may gain fields later (no additionalProperties: false),
  // while the strict request schemas still say they refuse unknown keys.
  const { schemas } = z.toJSONSchema(registry, { io: "input", uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, withoutMeta(s)]));
}

function parameters(
  schema: z.ZodObject<Record<string, z.ZodType>> | undefined,
  where: "path" | "query" | "header",
): Json[] {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const json = withoutMeta(z.toJSONSchema(field, { io: "input" }));
    const { description, ...rest } = json;
    return {
      name,
      in: where,
      required: where === "path" || !field.safeParse(undefined).success,
      ...(typeof description === "string" ? { description } : {}),
      schema: rest,
    };
  });
}

function content(c: ContentDoc | undefined): Json | undefined {
  if (c === undefined) return undefined;
  if (c === "text") return { "text/plain": { schema: { type: "string" } } };
  if (typeof c === "string") return { "application/json": { schema: ref(c) } };
  // Inline: a module's schemas have no cycles, so zod writes no $defs (whose #/$defs references
  // would not resolve inside an OpenAPI document).
  return { "application/json": { schema: withoutMeta(z.toJSONSchema(c, { io: "input" })) } };
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Malformed request (invalid_request): the message says which field and why.",
  401: "Missing or wrong admin password (unauthorized).",
  404: "Not found (not_found).",
  408: "The request body did not arrive within bodyReceiveMsMax (request_timeout); the connection is closed.",
  413: "Request body larger than requestBodyBytesMax (payload_too_large).",
  415: "The request body is not declared as Content-Type: application/json (unsupported_media_type).",
  422: "The transaction or request was refused; the code says why (spent_input, bad_signature, unbalanced...).",
  429: "Rate limited (rate_limited): retry after the Retry-After header's seconds.",
  500: "Internal error (internal): a bug in the guardian, logged there.",
  503: "The guardian cannot take this now (unavailable): retry later or ask another guardian.",
};

function operation(op: OperationDoc): Json {
  const responses: Record<string, Json> = {};
  for (const [status, r] of Object.entries(op.responses)) {
    const c = content(r.content);
    responses[status] = c ? { description: r.description, content: c } : { description: r.description };
  }
  const errors = new Set<number>([429, 500]);
  if (op.params || op.query || op.body) errors.add(400);
  if (op.body) for (const status of [408, 413, 415]) errors.add(status);
  if (op.admin) errors.add(401);
  for (const status of errors) {
    responses[String(status)] ??= {
      description: ERROR_DESCRIPTIONS[status] ?? "Error.",
      content: content("ErrorBody"),
    };
  }
  for (const [status, r] of Object.entries(responses)) {
    if (Number(status) >= 400 && r.content === undefined) r.content = content("ErrorBody");
  }
  const body = content(op.body);
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description === undefined ? {} : { description: op.description }),
    tags: [op.tag],
    parameters: [
      ...parameters(op.params, "path"),
      ...parameters(op.query, "query"),
      ...parameters(op.headers, "header"),
    ],
    ...(body ? { requestBody: { required: true, content: body } } : {}),
    responses,
    ...(op.admin ? { security: [{ [ADMIN_SCHEME]: [] }] } : {}),
  };
}

export function buildOpenApiDocument(ops: readonly OperationDoc[], info: { version: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const op of ops) {
    const p = openApiPath(op.path);
    const item = (paths[p] ??= {});
    if (item[op.method]) throw new Error(`two operations for ${op.method.toUpperCase()} ${op.path}`);
    item[op.method] = operation(op);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Conclave guardian API",
      version: info.version,
      description:
        "The client API of one guardian. Clients ask several guardians and trust answers that a " +
        "threshold of them agree on. Transactions travel as lowercase hex of their canonical encoding; " +
        "amounts as decimal strings. Every error has the ErrorBody shape.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        [ADMIN_SCHEME]: {
          type: "http",
          scheme: "bearer",
          description: "The guardian's admin password, sent as Authorization: Bearer <password>.",
        },
      },
    },
  };
}

/**
 * A module endpoint as an operation: under /v1/modules/<name>/, with the path parameters, body and
 * answer schemas the module declares. Throws on a module's bug that the document would hide: a name
 * that is not URL-safe, or path parameters that differ from the declared ones.
 */
export function moduleOperationDoc(name: string, endpoint: ModuleApiEndpoint, i: number): OperationDoc {
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(name))
    throw new Error(`module name ${JSON.stringify(name)} is not a URL-safe lowercase name`);
  const path = `/v1/modules/${name}/${endpoint.path.replace(/^\/+/, "")}`;
  const inPath = [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!).sort();
  const declared = Object.keys(endpoint.params?.shape ?? {}).sort();
  if (inPath.join(",") !== declared.join(","))
    throw new Error(
      `module endpoint ${path} declares path parameters [${declared.join(", ")}] but its path has [${inPath.join(", ")}]`,
    );
  return {
    method: endpoint.method === "GET" ? "get" : "post",
    path,
    operationId: `module_${name}_${i}`,
    summary: endpoint.summary,
    tag: `module ${name}`,
    ...(endpoint.params ? { params: endpoint.params } : {}),
    ...(endpoint.method === "POST" ? { body: endpoint.body } : {}),
    responses: {
      200: { description: "The module's answer.", content: endpoint.response },
      404: { description: "Not found." },
      422: { description: "Refused by the module; the code says why." },
    },
  };
}

/** The OpenAPI document of one module's endpoints alone, as a guardian running it publishes them. */
export function moduleOpenApiDocument(
  name: string,
  endpoints: readonly ModuleApiEndpoint[],
  info: { version: string },
): Json {
  return buildOpenApiDocument(
    endpoints.map((e, i) => moduleOperationDoc(name, e, i)),
    info,
  );
}
