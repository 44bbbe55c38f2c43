// The words and limits of an organisation's webhooks (docs/webhooks.md), shared by the routes,
// the operations, the worker and the schema.

/**
 * A delivery's state: waiting for its first attempt or a retry, answered 2xx, or given up on. The
 * one list: the type, the API's enum and the database's CHECK (a test compares them) follow it.
 */
export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The most endpoints one organisation holds: each event is written once per endpoint. */
export const MAX_WEBHOOKS_PER_ORG = 20;
export const MAX_DESCRIPTION_LENGTH = 500;

/** How long a rotated-out secret keeps signing beside the new one. */
export const PREVIOUS_SECRET_MS = 24 * 60 * 60 * 1000;
