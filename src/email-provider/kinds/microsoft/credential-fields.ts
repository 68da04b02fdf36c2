import { createHash, X509Certificate } from "node:crypto";
import { z } from "zod";
import type { FormField } from "../form.ts";
import type { FieldProblem } from "../kind.ts";
import { generateCertificate, MAX_PEM_CHARS, parseUploadedCertificate } from "./certificate.ts";
import { credentialExpiry, type MicrosoftCredential } from "./credentials.ts";

// How a Microsoft provider proves itself to Entra: a client secret, or a certificate whose private key
// signs a client assertion (https://learn.microsoft.com/entra/identity-platform/certificate-credentials).
// Secrets expire silently (24 months at most), so both carry an expiry the dashboard warns about.

const pem = (what: string) =>
  z
    .string()
    .max(MAX_PEM_CHARS, `must be at most ${MAX_PEM_CHARS} characters`)
    .regex(/-----BEGIN [A-Z0-9 ]+-----/, `must be ${what} in PEM form (-----BEGIN …-----)`);

/** The credential fields of the Microsoft body. */
export const credentialBodyFields = {
  credential: z
    .enum(["secret", "certificate"])
    .optional()
    .describe(
      "Which credential Postern presents first (default secret); a stored other one is tried after it",
    ),
  clientSecret: z
    .string()
    .min(1, "must not be empty")
    .max(1024, "must be at most 1024 characters")
    .regex(/^[^\r\n\0]*$/, "must not contain line breaks or NUL")
    .optional(),
  clientSecretExpiresOn: z.iso
    .date("must be a date, YYYY-MM-DD (Entra shows it beside the secret)")
    .nullable()
    .optional(),
  generateCertificate: z
    .boolean()
    .optional()
    .describe(
      "True: Postern creates a key pair and a self-signed certificate; the private key never leaves it",
    ),
  certificatePem: pem("a certificate").optional(),
  privateKeyPem: pem("a private key").optional(),
  removeOtherCredential: z
    .boolean()
    .optional()
    .describe("True: drop the stored credential of the other kind (the end of a rotation)"),
};

type CredentialBody = {
  [K in keyof typeof credentialBodyFields]?: z.infer<(typeof credentialBodyFields)[K]>;
};

/** The public side of the stored certificate (its private key is a sealed secret). */
export interface StoredCertificate {
  certificatePem: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
  notAfter: string;
}

export interface CredentialSettings {
  /** Stored rows from before certificates have none: the secret. */
  credential?: "secret" | "certificate";
  clientSecretExpiresOn?: string | null;
  certificate?: StoredCertificate | null;
}

export const credentialViewFields = {
  credential: z.enum(["secret", "certificate"]),
  clientSecretSet: z.boolean(),
  clientSecretExpiresOn: z.string().nullable(),
  privateKeySet: z.boolean(),
  certificatePem: z.string().nullable().describe("The public certificate to upload to the app registration"),
  certificate: z
    .object({
      thumbprintSha1: z.string(),
      thumbprintSha256: z.string(),
      notAfter: z.string(),
      daysLeft: z.number(),
    })
    .nullable(),
  credentials: z
    .array(
      z.object({
        kind: z.enum(["secret", "certificate"]),
        primary: z.boolean(),
        expiresAt: z.string().nullable(),
        daysLeft: z.number().nullable(),
        state: z.enum(["ok", "expiring", "expired", "unknown"]),
      }),
    )
    .describe("Every stored credential, in the order Postern tries them"),
  warnings: z.array(z.object({ code: z.string(), field: z.string().optional(), message: z.string() })),
};

const certificateOnly = { field: "credential", in: ["certificate"] };
const secretOnly = { field: "credential", in: ["secret"] };

export const credentialFormFields: FormField[] = [
  {
    name: "credential",
    label: "Credential",
    input: "choice",
    required: true,
    default: "secret",
    options: [
      {
        value: "secret",
        label: "Client secret",
        help: "A secret from Certificates & secrets. It expires (24 months at most): enter its expiry date and Postern warns you before.",
      },
      {
        value: "certificate",
        label: "Certificate",
        help: "Postern signs each token request with a private key that never leaves it; you upload only the public certificate to Entra.",
      },
    ],
  },
  {
    name: "clientSecret",
    label: "Client secret",
    input: "password",
    secret: true,
    required: true,
    autocomplete: "new-password",
    setFlag: "clientSecretSet",
    when: secretOnly,
    help: "The secret's Value (not its ID), from Certificates & secrets. Write-only: Postern seals it and never shows it again.",
  },
  {
    name: "clientSecretExpiresOn",
    label: "Secret expires on",
    input: "date",
    required: false,
    when: secretOnly,
    help: "The Expires date Entra shows beside the secret: from 30 days before, the dashboard and a weekly email to the owners warn you.",
  },
  {
    name: "generateCertificate",
    label: "Create a new certificate in Postern",
    input: "checkbox",
    required: false,
    when: certificateOnly,
    help: "Postern creates an RSA key pair and a self-signed certificate valid for a year. Download the certificate and upload it in App registrations → your app → Certificates & secrets → Certificates.",
  },
  {
    name: "certificate",
    label: "Certificate to upload to Entra",
    input: "certificate",
    required: false,
    when: certificateOnly,
  },
  {
    name: "certificatePem",
    label: "Or your own certificate (PEM)",
    input: "pem",
    required: false,
    when: certificateOnly,
    help: "The public certificate, -----BEGIN CERTIFICATE-----. Its private key goes below.",
  },
  {
    name: "privateKeyPem",
    label: "Its private key (PEM)",
    input: "pem",
    secret: true,
    required: false,
    setFlag: "privateKeySet",
    when: certificateOnly,
    help: "Unencrypted PKCS#8 or PKCS#1. Write-only: Postern seals it and never shows it again.",
  },
  {
    name: "removeOtherCredential",
    label: "Remove the other stored credential",
    input: "checkbox",
    required: false,
    help: "While both a secret and a certificate are stored, Postern tries the chosen one first and the other after it, so you can rotate without downtime. Tick this once the new one works.",
  },
];

/** The stored public description of a certificate PEM. */
function storedCertificate(certificatePem: string): StoredCertificate {
  const certificate = new X509Certificate(certificatePem);
  return {
    certificatePem: certificate.toString(),
    thumbprintSha1: createHash("sha1").update(certificate.raw).digest("hex").toUpperCase(),
    thumbprintSha256: createHash("sha256").update(certificate.raw).digest("base64url"),
    notAfter: new Date(certificate.validTo).toISOString(),
  };
}

export function credentialSettingsOf(body: CredentialBody): CredentialSettings {
  return {
    credential: body.credential ?? "secret",
    clientSecretExpiresOn: body.clientSecretExpiresOn ?? null,
    certificate: body.certificatePem ? storedCertificate(body.certificatePem) : null,
  };
}

export const credentialSecretsOf = (body: CredentialBody) => ({
  clientSecret: body.clientSecret,
  privateKeyPem: body.privateKeyPem,
});

/** A new provider needs the chosen credential; the other one is optional. */
export const requiredCredentialSecrets = (body: CredentialBody): string[] =>
  body.credential === "certificate" ? (body.generateCertificate ? [] : ["privateKeyPem"]) : ["clientSecret"];

/** Stored secrets the body drops: the other credential at the end of a rotation. */
export const discardedCredentialSecrets = (body: CredentialBody): string[] =>
  body.removeOtherCredential ? [body.credential === "certificate" ? "clientSecret" : "privateKeyPem"] : [];

/**
 * Before a save or a test: creates the certificate that was asked for, or checks the uploaded one with
 * its key (every problem named, by field). A new certificate without its key is refused: the stored key
 * belongs to the stored certificate.
 */
export async function prepareCredential<B extends CredentialBody>(
  body: B,
  stored: CredentialSettings | undefined,
  now: Date,
  subject: string,
): Promise<{ body: B } | { problems: FieldProblem[] }> {
  // A form that hides the secret's fields (the certificate is chosen) sends no expiry date: the stored
  // secret, kept as the second credential, keeps its date (null clears it).
  if (
    body.clientSecretExpiresOn === undefined &&
    stored?.clientSecretExpiresOn &&
    !body.removeOtherCredential
  )
    body = { ...body, clientSecretExpiresOn: stored.clientSecretExpiresOn };
  if (body.credential !== "certificate" && !body.certificatePem && !body.privateKeyPem) return { body };
  if (body.generateCertificate) {
    const created = await generateCertificate({ subject, now });
    const { generateCertificate: _done, ...rest } = body;
    return {
      body: { ...rest, certificatePem: created.certificatePem, privateKeyPem: created.privateKeyPem } as B,
    };
  }
  if (body.privateKeyPem !== undefined) {
    const parsed = parseUploadedCertificate(body.certificatePem ?? "", body.privateKeyPem, now);
    if (!parsed.ok) return { problems: parsed.problems };
    return {
      body: {
        ...body,
        certificatePem: parsed.certificate.certificatePem,
        privateKeyPem: parsed.certificate.privateKeyPem,
      },
    };
  }
  if (body.certificatePem === undefined) {
    return body.credential === "certificate" && !stored?.certificate
      ? {
          problems: [
            {
              field: "certificatePem",
              code: "certificate_required",
              message: "Choose Create a new certificate, or upload your certificate and its private key.",
            },
          ],
        }
      : { body };
  }
  let thumbprint: string;
  try {
    thumbprint = storedCertificate(body.certificatePem).thumbprintSha256;
  } catch {
    return {
      problems: [
        { field: "certificatePem", code: "not_a_certificate", message: "This is not a PEM certificate." },
      ],
    };
  }
  if (thumbprint !== stored?.certificate?.thumbprintSha256) {
    return {
      problems: [
        {
          field: "privateKeyPem",
          code: "secret_required",
          message:
            "A new certificate needs its private key: the stored key belongs to the stored certificate.",
        },
      ],
    };
  }
  return { body };
}

/** The credentials to present, in order: the chosen one first, then the other while it is stored. */
export function credentialsOf(
  settings: CredentialSettings,
  secrets: Record<string, string>,
): MicrosoftCredential[] {
  const secret: MicrosoftCredential | undefined = secrets.clientSecret
    ? {
        kind: "secret",
        clientSecret: secrets.clientSecret,
        ...(settings.clientSecretExpiresOn ? { expiresOn: endOfDay(settings.clientSecretExpiresOn) } : {}),
      }
    : undefined;
  const certificate: MicrosoftCredential | undefined =
    secrets.privateKeyPem && settings.certificate
      ? {
          kind: "certificate",
          privateKeyPem: secrets.privateKeyPem,
          certificatePem: settings.certificate.certificatePem,
          thumbprintSha256: settings.certificate.thumbprintSha256,
        }
      : undefined;
  const ordered = settings.credential === "certificate" ? [certificate, secret] : [secret, certificate];
  return ordered.filter((c): c is MicrosoftCredential => c !== undefined);
}

/** Entra's secret expiry is a date; the secret works through that day (UTC). */
const endOfDay = (date: string) => new Date(`${date}T23:59:59Z`);

const NAMES = { secret: "client secret", certificate: "certificate" } as const;

/** The credential part of the provider view: what is stored, in order, with days left and warnings. */
export function credentialView(settings: CredentialSettings, storedSecrets: readonly string[], now: Date) {
  const stored = Object.fromEntries(storedSecrets.map((field) => [field, "(sealed)"]));
  const primary = settings.credential ?? "secret";
  const credentials = credentialsOf(settings, stored).map((credential) => {
    const expiry = credentialExpiry(credential, now);
    return {
      kind: credential.kind,
      primary: credential.kind === primary,
      expiresAt: expiry?.expiresAt.toISOString() ?? null,
      daysLeft: expiry?.daysLeft ?? null,
      state: expiry?.state ?? ("unknown" as const),
    };
  });
  const warnings = credentials.flatMap((c) => {
    const field = c.kind === "secret" ? "clientSecretExpiresOn" : "certificate";
    const day = c.expiresAt?.slice(0, 10);
    if (c.state === "expired")
      return [
        {
          code: "credential_expired",
          field,
          message: `The ${NAMES[c.kind]} expired on ${day}: Entra refuses it. ${c.kind === "secret" ? "Create a new secret (or switch to a certificate) and save it here." : "Create a new certificate here, upload it to the app registration, then save."}`,
        },
      ];
    if (c.state === "expiring")
      return [
        {
          code: "credential_expiring",
          field,
          message: `The ${NAMES[c.kind]} expires on ${day}, in ${c.daysLeft} day${c.daysLeft === 1 ? "" : "s"}. Add the new one now: while both are stored, Postern tries the new one first and the old one after it.`,
        },
      ];
    return [];
  });
  return {
    credential: primary,
    clientSecretSet: storedSecrets.includes("clientSecret"),
    clientSecretExpiresOn: settings.clientSecretExpiresOn ?? null,
    privateKeySet: storedSecrets.includes("privateKeyPem"),
    certificatePem: settings.certificate?.certificatePem ?? null,
    certificate: settings.certificate
      ? {
          thumbprintSha1: settings.certificate.thumbprintSha1,
          thumbprintSha256: settings.certificate.thumbprintSha256,
          notAfter: settings.certificate.notAfter,
          daysLeft: credentials.find((c) => c.kind === "certificate")?.daysLeft ?? 0,
        }
      : null,
    credentials,
    warnings,
  };
}
