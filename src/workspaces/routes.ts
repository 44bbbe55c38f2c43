// HTTP only: schemas in, schemas out. The rules live in operations.ts.
import type { FastifyInstance } from "fastify";
import type { Services } from "../services.js";

export async function workspaceRoutes(_fastify: FastifyInstance, _services: Services): Promise<void> {}
