// TEST ONLY (package export "@conclave/core-server/openapi-check"): what is wrong with an OpenAPI
// document the guardian publishes. First the OpenAPI 3.x schema itself (@seriousme/openapi-schema-
// validator, which checks the document against the specification's published JSON Schema), then
// what that schema cannot say: every `{name}` in a path is a declared path parameter and back, and
// no parameter, request body or answer goes without a schema.
import { Validator } from "@seriousme/openapi-schema-validator";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A schema that says something: a $ref, a type, a combination... not `{}` nor only a description. */
function schemaIsEmpty(schema: unknown): boolean {
  if (!isObject(schema)) return true;
  return Object.keys(schema).filter((k) => k !== "description" && k !== "title").length === 0;
}

function contentProblems(where: string, content: unknown): string[] {
  if (!isObject(content) || Object.keys(content).length === 0) return [`${where}: no content`];
  return Object.entries(content).flatMap(([type, media]) =>
    isObject(media) && !schemaIsEmpty(media["schema"]) ? [] : [`${where} ${type}: empty schema`],
  );
}

function operationProblems(path: string, method: string, op: Json): string[] {
  const at = `${method.toUpperCase()} ${path}`;
  const problems: string[] = [];
  const parameters = Array.isArray(op["parameters"]) ? op["parameters"].filter(isObject) : [];
  const declared = parameters.filter((p) => p["in"] === "path").map((p) => String(p["name"]));
  const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  for (const name of inPath)
    if (!declared.includes(name)) problems.push(`${at}: path parameter {${name}} is not declared`);
  for (const name of declared)
    if (!inPath.includes(name)) problems.push(`${at}: declares path parameter ${name} that its path lacks`);
  for (const p of parameters)
    if (schemaIsEmpty(p["schema"]))
      problems.push(`${at}: parameter ${String(p["name"])} has an empty schema`);
  const body = op["requestBody"];
  if (isObject(body)) problems.push(...contentProblems(`${at} request body`, body["content"]));
  else if (method === "post" && path.startsWith("/v1/modules/"))
    problems.push(`${at}: a module POST without a request body`);
  const responses = isObject(op["responses"]) ? op["responses"] : {};
  for (const [status, response] of Object.entries(responses)) {
    if (!isObject(response)) {
      problems.push(`${at} ${status}: not an object`);
      continue;
    }
    // 101 (switching to WebSocket) has no body; every other answer documents its body.
    if (status === "101" && response["content"] === undefined) continue;
    problems.push(...contentProblems(`${at} ${status}`, response["content"]));
  }
  return problems;
}

/** Everything wrong with `doc`, as readable lines; empty when it is a valid, complete document. */
export async function openApiProblems(doc: unknown): Promise<string[]> {
  if (!isObject(doc)) return ["not a JSON object"];
  const validator = new Validator();
  // The validator keeps the document it is given: hand it a copy.
  const result = await validator.validate(structuredClone(doc));
  const errors = result.errors ?? [];
  const problems = result.valid
    ? []
    : typeof errors === "string"
      ? [`OpenAPI schema: ${errors}`]
      : errors.map((e) => `OpenAPI schema: ${e.instancePath} ${e.message ?? ""} ${JSON.stringify(e.params)}`);
  if (!isObject(doc["paths"])) return [...problems, "no paths"];
  for (const [path, item] of Object.entries(doc["paths"])) {
    if (!isObject(item)) continue;
    for (const [method, op] of Object.entries(item))
      if (isObject(op)) problems.push(...operationProblems(path, method, op));
  }
  return problems;
}
