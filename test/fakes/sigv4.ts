// AWS Signature Version 4 checked as AWS checks it, written from the specification with node:crypto
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), not with the SDK's own signer,
// so a signing mistake on the client cannot hide behind the same mistake in the fake.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export type SigV4Result =
  | { ok: true; accessKeyId: string; region: string; service: string }
  | { ok: false; code: "MissingAuthenticationToken" | "IncompleteSignature"; message: string }
  | { ok: false; code: "UnrecognizedClientException"; message: string; accessKeyId: string }
  | { ok: false; code: "SignatureDoesNotMatch"; message: string; accessKeyId: string }
  | { ok: false; code: "InvalidSignatureException"; message: string; accessKeyId: string };

export interface SignedRequest {
  method: string;
  /** As received: path and query, percent-encoded once by the client. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
/** AWS refuses a signature more than 5 minutes from its clock. */
const MAX_SKEW_MS = 5 * 60_000;

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

/** RFC 3986 unreserved characters stay, everything else is %XX (upper case), as SigV4 requires. */
const uriEncode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Services other than S3 encode each path segment a second time (the wire form is encoded once). */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const normal = `/${segments.join("/")}${segments.length > 0 && path.endsWith("/") ? "/" : ""}`;
  return uriEncode(normal).replace(/%2F/g, "/");
}

function canonicalQuery(query: string): string {
  if (!query) return "";
  return query
    .split("&")
    .filter(Boolean)
    .map((pair) => {
      const [key, value = ""] = pair.split("=");
      return [uriEncode(decodeURIComponent(key!)), uriEncode(decodeURIComponent(value))] as const;
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
}

const headerValue = (value: string | string[] | undefined) =>
  (Array.isArray(value) ? value.join(",") : (value ?? "")).trim().replace(/\s+/g, " ");

/** Verifies the request's signature with the secret of its access key (`secretOf` undefined: unknown key). */
export function verifySigV4(
  request: SignedRequest,
  secretOf: (accessKeyId: string) => string | undefined,
  now: number,
): SigV4Result {
  const authorization = headerValue(request.headers.authorization);
  if (!authorization) {
    return { ok: false, code: "MissingAuthenticationToken", message: "Missing Authentication Token" };
  }
  const match = AUTH.exec(authorization);
  const amzDate = headerValue(request.headers["x-amz-date"]);
  if (!match || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
    return {
      ok: false,
      code: "IncompleteSignature",
      message: `Authorization header requires 'Credential', 'Signature', 'SignedHeaders' and an X-Amz-Date header. Authorization=${authorization.split(" ")[0]}`,
    };
  }
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match as unknown as string[];
  const secret = secretOf(accessKeyId!);
  if (secret === undefined) {
    return {
      ok: false,
      code: "UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
      accessKeyId: accessKeyId!,
    };
  }
  const signedAt = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (Math.abs(now - signedAt) > MAX_SKEW_MS || amzDate.slice(0, 8) !== date) {
    return {
      ok: false,
      code: "InvalidSignatureException",
      message: `Signature expired: ${amzDate} is now earlier than ${new Date(now - MAX_SKEW_MS).toISOString().replace(/[-:]|\.\d+/g, "")}.`,
      accessKeyId: accessKeyId!,
    };
  }
  const names = signedHeaders!.split(";");
  if (!names.includes("host")) {
    return {
      ok: false,
      code: "IncompleteSignature",
      message: "The host header must be signed.",
    };
  }
  const [path = "/", query = ""] = request.url.split("?", 2);
  const payloadHash = headerValue(request.headers["x-amz-content-sha256"]) || sha256(request.body);
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(path),
    canonicalQuery(query),
    ...names.map((name) => `${name}:${headerValue(request.headers[name])}`),
    "",
    signedHeaders,
    payloadHash,
  ].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), "aws4_request");
  const expected = createHmac("sha256", key).update(stringToSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature!, "hex"))) {
    return {
      ok: false,
      code: "SignatureDoesNotMatch",
      message:
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
      accessKeyId: accessKeyId!,
    };
  }
  return { ok: true, accessKeyId: accessKeyId!, region: region!, service: service! };
}
