import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

// The webhook's signing secrets, in the Standard Webhooks format: `whsec_` + base64 of 24–64 random bytes,
// the HMAC-SHA256 key being the decoded bytes (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme).
// Postern creates them; the developer never types one. They live in two sealed slots, so a rotation
// writes the new secret into the other slot without ever reading the current one: the current slot
// becomes the previous one, and both sign until `previousValidUntil`.

/** 32 bytes: the HMAC-SHA256 block-size-friendly middle of the spec's 24–64. */
const SECRET_BYTES = 32;
/** How long the previous secret keeps signing after a rotation, so a receiver can roll over. */
export const ROLLOVER_HOURS = 24;

export const SLOTS = ["signingSecret1", "signingSecret2"] as const;
export type Slot = (typeof SLOTS)[number];

/** The public side of the stored secrets (the secrets themselves are sealed, per slot). */
export interface SigningState {
  current: Slot;
  /** When the current secret was created. */
  createdAt: string;
  /** Until when the other slot's secret still signs; null when it signs no more. */
  previousValidUntil: string | null;
}

export const createSigningSecret = () => `whsec_${randomBytes(SECRET_BYTES).toString("base64")}`;

const otherSlot = (slot: Slot): Slot => (slot === "signingSecret1" ? "signingSecret2" : "signingSecret1");

/** What a save does to the secrets: the state to store, the secret it created (if any) and slots to drop. */
export interface SigningChange {
  state: SigningState;
  created?: { slot: Slot; secret: string };
  discarded: Slot[];
}

/**
 * A new provider gets its first secret; `rotate` puts a new one in the other slot and keeps the current
 * one signing for ROLLOVER_HOURS (rotating again within that time ends the older one at once); otherwise
 * the stored state is kept, and a previous secret past its time is dropped.
 */
export function changeSigning(stored: SigningState | undefined, rotate: boolean, now: Date): SigningChange {
  if (!stored) {
    const secret = createSigningSecret();
    return {
      state: { current: SLOTS[0], createdAt: now.toISOString(), previousValidUntil: null },
      created: { slot: SLOTS[0], secret },
      discarded: [SLOTS[1]],
    };
  }
  if (rotate) {
    const slot = otherSlot(stored.current);
    return {
      state: {
        current: slot,
        createdAt: now.toISOString(),
        previousValidUntil: new Date(now.getTime() + ROLLOVER_HOURS * 3_600_000).toISOString(),
      },
      created: { slot, secret: createSigningSecret() },
      discarded: [],
    };
  }
  if (stored.previousValidUntil !== null && Date.parse(stored.previousValidUntil) <= now.getTime()) {
    return { state: { ...stored, previousValidUntil: null }, discarded: [otherSlot(stored.current)] };
  }
  return { state: stored, discarded: stored.previousValidUntil === null ? [otherSlot(stored.current)] : [] };
}

/** The secrets that sign at `now`: the current one, then the previous one while its rollover lasts. */
export function signingSecrets(state: SigningState, secrets: Record<string, string>, now: Date): string[] {
  const current = secrets[state.current];
  if (!current) throw new Error("the webhook's signing secret is missing");
  const previous = secrets[otherSlot(state.current)];
  const previousSigns =
    previous !== undefined &&
    state.previousValidUntil !== null &&
    Date.parse(state.previousValidUntil) > now.getTime();
  return previousSigns ? [current, previous] : [current];
}

/**
 * The Standard Webhooks headers for one request: every signing secret signs `id.timestamp.body`, and the
 * signatures go space-separated in `webhook-signature`, which the spec's verifiers accept if any matches.
 */
export function signedHeaders(
  signers: readonly Webhook[],
  webhookId: string,
  at: Date,
  body: string,
): Record<string, string> {
  return {
    "webhook-id": webhookId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signers.map((signer) => signer.sign(webhookId, at, body)).join(" "),
  };
}

export const signersOf = (secrets: readonly string[]) => secrets.map((secret) => new Webhook(secret));
