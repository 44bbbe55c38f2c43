// HTTP only: schemas in, schemas out. The rules live in the operations.
import type { FastifyInstance } from "fastify";
import type { Services } from "../services.js";

export async function invitationJoinRoutes(_fastify: FastifyInstance, _services: Services): Promise<void> {}
