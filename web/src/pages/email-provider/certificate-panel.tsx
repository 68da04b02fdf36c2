import { useId } from "react";
import { Time } from "../../components/time.tsx";
import type { KindField, ProviderCertificate } from "./provider-kinds.ts";
import "./certificate-panel.css";

/** Saves the public certificate as a file, for the app registration's Certificates & secrets upload. */
function download(certificate: ProviderCertificate, certificatePem: string) {
  // Entra's upload takes .cer, .pem and .crt files; a PEM-encoded .cer is what most guides show.
  const url = URL.createObjectURL(new Blob([certificatePem], { type: "application/x-pem-file" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `postern-${certificate.thumbprintSha1.toLowerCase()}.cer`;
  link.click();
  URL.revokeObjectURL(url);
}

const daysLeft = (days: number) => (days < 0 ? "expired" : days === 1 ? "1 day left" : `${days} days left`);

/**
 * A `certificate` field: nothing to enter, the saved provider's public certificate to download, with
 * the thumbprints the app registration lists, and when it expires. Nothing while none is saved.
 */
export function CertificatePanel({
  field,
  certificate,
  certificatePem,
}: {
  field: KindField;
  certificate: ProviderCertificate | null | undefined;
  /** The view's public certificate, PEM: what the app registration needs. */
  certificatePem: string | null | undefined;
}) {
  const titleId = useId();
  if (!certificate || !certificatePem) return null;
  return (
    <section className="certificate-panel" aria-labelledby={titleId}>
      <h4 id={titleId} className="certificate-panel-title">
        {field.label}
      </h4>
      {field.help && <p className="field-hint">{field.help}</p>}
      <dl className="details">
        <div>
          <dt>Thumbprint (SHA-1)</dt>
          <dd>
            <code className="break">{certificate.thumbprintSha1}</code>
          </dd>
        </div>
        <div className="details-wide">
          <dt>Thumbprint (SHA-256)</dt>
          <dd>
            <code className="break">{certificate.thumbprintSha256}</code>
          </dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd>
            <Time iso={certificate.notAfter} />{" "}
            <span className={certificate.daysLeft <= 30 ? "text-warning" : "muted"}>
              ({daysLeft(certificate.daysLeft)})
            </span>
          </dd>
        </div>
      </dl>
      <button
        type="button"
        className="btn btn-secondary btn-sm"
        onClick={() => download(certificate, certificatePem)}
      >
        Download certificate
      </button>
    </section>
  );
}
