// The identity fake's directory: tenants, app registrations, their secrets and SMTP.SendAsApp consent.
import { randomUUID } from "node:crypto";
import { type EntraError, entraErrors } from "./entra-errors.ts";

export interface FakeSecret {
  value: string;
  expiresAt: Date;
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
