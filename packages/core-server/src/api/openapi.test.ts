// The OpenAPI document the guardian serves: valid OpenAPI 3.1 (the specification's own JSON Schema)
// and complete (every path parameter declared, no schema left empty), module routes included.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ApiServer } from "./server.js";
import { openApiProblems } from "./openapi-check.js";
import { TestBackend } from "./test-backend.js";
import type { ModuleApiEndpoint } from "../federation/module.js";

type Operation = {
  parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
};
type Doc = { paths: Record<string, Record<string, Operation>> };

function documentOf(backend = new TestBackend()): Doc {
  const api = new ApiServer({ backend, host: "127.0.0.1", port: 0, log: () => {} });
  return api.openApiDocument() as Doc;
}

describe("guardian API: the OpenAPI document", () => {
  it("is valid OpenAPI 3.1, and every route has its path parameters and non-empty schemas", async () => {
    expect(await openApiProblems(documentOf())).toEqual([]);
  });

  it("documents a module endpoint's path parameters, body and answer from the schemas it declares", () => {
    const doc = documentOf();
    const coin = doc.paths["/v1/modules/dummy/coins/{txid}/{index}"]!["get"]!;
    expect(coin.parameters.map((p) => [p.name, p.in, p.required])).toEqual([
      ["txid", "path", true],
      ["index", "path", true],
    ]);
    expect(coin.parameters[0]!.schema).toMatchObject({ type: "string", pattern: "^[0-9a-f]{64}$" });
    expect(coin.responses["200"]!.content!["application/json"]!.schema).toMatchObject({
      type: "object",
      properties: { amount: { type: "string" }, spent: { type: "boolean" } },
    });
    const echo = doc.paths["/v1/modules/dummy/echo"]!["post"]!;
    expect(echo.requestBody!.content["application/json"]!.schema).toMatchObject({
      type: "object",
      required: ["message"],
      additionalProperties: false,
      properties: { message: { type: "string", maxLength: 100 } },
    });
  });

  it("finds what is missing: an undeclared path parameter, an empty schema, an invalid document", async () => {
    const doc = documentOf();
    doc.paths["/v1/modules/dummy/coins/{txid}/{index}"]!["get"]!.parameters.pop();
    doc.paths["/v1/modules/dummy/echo"]!["post"]!.requestBody!.content["application/json"]!.schema = {};
    doc.paths["/v1/status"]!["get"]!.responses["200"]!.content!["application/json"]!.schema = {
      description: "any",
    };
    Reflect.set(doc.paths["/v1/federation"]!["get"]!, "responses", "none"); // not OpenAPI
    const problems = await openApiProblems(doc);
    expect(problems).toEqual(
      expect.arrayContaining([
        "GET /v1/modules/dummy/coins/{txid}/{index}: path parameter {index} is not declared",
        "POST /v1/modules/dummy/echo request body application/json: empty schema",
        "GET /v1/status 200 application/json: empty schema",
        expect.stringMatching(/^OpenAPI schema: \/paths\/~1v1~1federation\/get\/responses /),
      ]),
    );
  });

  it("refuses to start with a module endpoint whose declared path parameters differ from its path", () => {
    const endpoint = (params?: z.ZodObject<Record<string, z.ZodType>>): ModuleApiEndpoint => ({
      method: "GET",
      path: "things/:id",
      summary: "a thing",
      ...(params ? { params } : {}),
      response: z.object({}),
      handle: () => ({}),
    });
    const backendWith = (e: ModuleApiEndpoint) => {
      const backend = new TestBackend();
      backend.modules = () => [{ name: "things", instanceId: 9, endpoints: [e], db: () => backend.db }];
      return backend;
    };
    expect(() => documentOf(backendWith(endpoint()))).toThrow(
      /declares path parameters \[\] but its path has \[id\]/,
    );
    expect(() => documentOf(backendWith(endpoint(z.object({ key: z.string() }))))).toThrow(
      /declares path parameters \[key\] but its path has \[id\]/,
    );
    expect(documentOf(backendWith(endpoint(z.object({ id: z.string() })))).paths).toHaveProperty(
      "/v1/modules/things/things/{id}",
    );
  });
});
