// The identity fake's directory: tenants, app registrations, their secrets and certificates, SMTP.SendAsApp
// consent and Microsoft Graph application permissions.
import { createHash, randomUUID, X509Certificate } from "node:crypto";
import { type EntraError, entraErrors } from "./entra-errors.ts";

export interface FakeSecret {
  value: string;
  expiresAt: Date;
}

/**
 * A certificate uploaded to an app registration (its keyCredential). Entra takes the key's start and end
 * from the certificate's notBefore/notAfter (https://learn.microsoft.com/entra/identity-platform/certificate-credentials).
 */
export interface FakeCertificate {
  certificate: X509Certificate;
  /** Upper-case hex SHA-1 of the DER (the portal's "Thumbprint"; the x5t header is its base64url). */
  thumbprintSha1: string;
  /** Upper-case hex SHA-256 of the DER (the x5t#S256 header is its base64url). */
  thumbprintSha256: string;
  startsAt: Date;
  endsAt: Date;
}

export interface FakeApp {
  tenantId: string;
  clientId: string;
  displayName: string;
  /** Object id of the Enterprise application (service principal), what Exchange's New-ServicePrincipal wants. */
  servicePrincipalId: string;
  secrets: FakeSecret[];
  /** Whether SMTP.SendAsApp (Office 365 Exchange Online) has admin consent. */
  consented: boolean;
  certificates: FakeCertificate[];
  /** Admin-consented Microsoft Graph application permissions, e.g. ["Mail.Send"]; they become the token's roles. */
  graphRoles: string[];
}

export interface FakeTenant {
  id: string;
  domains: string[];
  apps: Map<string, FakeApp>;
}

export interface AppSpec {
  clientId?: string;
  displayName?: string;
  servicePrincipalId?: string;
  /** A secret value valid for two years; use addSecret for more. */
  secret?: string;
  /** Default true. */
  consented?: boolean;
  /** PEM certificates to register (public part only, as uploaded in the portal). */
  certificates?: string[];
  /** Default none: Graph's Mail.Send must be granted on purpose (tenant-wide when consented in Entra). */
  graphRoles?: string[];
}

export interface TenantSpec {
  id?: string;
  domains?: string[];
  apps?: AppSpec[];
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const dnsPattern = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const inTwoYears = (): Date => new Date(Date.now() + 2 * 365 * 24 * 3600 * 1000);

export class EntraDirectory {
  readonly tenants = new Map<string, FakeTenant>();

  addTenant(spec: TenantSpec = {}): FakeTenant {
    const tenant: FakeTenant = {
      id: (spec.id ?? randomUUID()).toLowerCase(),
      domains: (spec.domains ?? []).map((d) => d.toLowerCase()),
      apps: new Map(),
    };
    this.tenants.set(tenant.id, tenant);
    for (const app of spec.apps ?? []) this.addApp(tenant.id, app);
    return tenant;
  }

  addApp(tenantId: string, spec: AppSpec = {}): FakeApp {
    const tenant = this.tenants.get(tenantId.toLowerCase());
    if (!tenant) throw new Error(`no tenant ${tenantId}`);
    const app: FakeApp = {
      tenantId: tenant.id,
      clientId: (spec.clientId ?? randomUUID()).toLowerCase(),
      displayName: spec.displayName ?? "Postern SMTP sender",
      servicePrincipalId: spec.servicePrincipalId ?? randomUUID(),
      secrets: spec.secret ? [{ value: spec.secret, expiresAt: inTwoYears() }] : [],
      consented: spec.consented ?? true,
      certificates: (spec.certificates ?? []).map(registeredCertificate),
      graphRoles: [...(spec.graphRoles ?? [])],
    };
    tenant.apps.set(app.clientId, app);
    return app;
  }

  /** Client ids are GUIDs, so the first tenant holding one is the one meant. */
  findApp(clientId: string): FakeApp {
    for (const tenant of this.tenants.values()) {
      const app = tenant.apps.get(clientId.toLowerCase());
      if (app) return app;
    }
    throw new Error(`no app ${clientId}`);
  }

  addSecret(clientId: string, value: string, expiresAt: Date = inTwoYears()): void {
    this.findApp(clientId).secrets.push({ value, expiresAt });
  }

  expireSecret(clientId: string, value?: string): void {
    for (const secret of this.findApp(clientId).secrets) {
      if (value === undefined || secret.value === value) secret.expiresAt = new Date(Date.now() - 1000);
    }
  }

  addCertificate(clientId: string, pem: string): FakeCertificate {
    const certificate = registeredCertificate(pem);
    this.findApp(clientId).certificates.push(certificate);
    return certificate;
  }

  /** Removes the certificate with this SHA-1 or SHA-256 thumbprint (hex, any case). */
  removeCertificate(clientId: string, thumbprint: string): void {
    const app = this.findApp(clientId);
    const hex = thumbprint.toUpperCase();
    app.certificates = app.certificates.filter((c) => c.thumbprintSha1 !== hex && c.thumbprintSha256 !== hex);
  }

  /** A tenant path segment is a GUID or a verified domain name (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow). */
  resolve(raw: string): FakeTenant | EntraError {
    if (!guidPattern.test(raw) && !dnsPattern.test(raw)) return entraErrors.tenantMalformed(raw);
    const key = raw.toLowerCase();
    for (const tenant of this.tenants.values()) {
      if (tenant.id === key || tenant.domains.includes(key)) return tenant;
    }
    return entraErrors.tenantNotFound(raw);
  }
}

function registeredCertificate(pem: string): FakeCertificate {
  const certificate = new X509Certificate(pem);
  const hex = (algorithm: string): string =>
    createHash(algorithm).update(certificate.raw).digest("hex").toUpperCase();
  return {
    certificate,
    thumbprintSha1: hex("sha1"),
    thumbprintSha256: hex("sha256"),
    startsAt: new Date(certificate.validFrom),
    endsAt: new Date(certificate.validTo),
  };
}
